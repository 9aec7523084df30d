/* Tests for agent bootstrap (relay/bootstrap.c) end to end: the real stub run by /bin/sh
 * with the real ./jumpgate-agent (cwd is the build directory, so a missing agent is a
 * failure, not a skip): upload, cache, arguments, every failure it reports, and another
 * local user racing it for the TMPDIR cache.  The parser, the stub's text and build
 * descriptions are in tests/unit/test_bootstrap.c. */
#include "config.h" /* _GNU_SOURCE */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "relay/bootstrap.h"
#include "relay/err.h"
#include "relay/spawn.h"
#include "tests/unit/suites.h"
#include "tests/unit/testutil.h"

#define AGENT_PATH "./jumpgate-agent"
#define SHA_A "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

/* ---- the stub, run by /bin/sh with the real agent ---- */

struct run {
	const char *prefix; /* shell text run before the command (a chatty login) */
	const char *tmpdir; /* TMPDIR, if not the same as HOME */
	size_t send_limit;  /* send at most this much of the agent, then close stdin */
	struct jg_child c;
	struct jg_boot *boot;
	int send_fd; /* the agent file while sending, else -1 */
	size_t sent;
	int needs;
	enum jg_boot_event ev;
	int status;
	char err[1024]; /* the stub's stderr */
	size_t errlen;
};

static int run_start(struct run *r, const char *home, const struct jg_agent_build *bs, size_t n)
{
	char env_home[600], *cmd = jg_bootstrap_command(bs, n), *line = NULL, err[256];
	char env_tmp[sizeof(env_home) + 8];
	char *envp[] = {env_home, env_tmp, "PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
			NULL};
	char *argv[] = {"/bin/sh", "-c", NULL, NULL};
	struct jg_spawn_opts o = {.argv = argv, .envp = envp};
	int rc = -1;

	r->boot = jg_boot_new();
	r->send_fd = -1;
	r->ev = JG_BOOT_MORE;
	snprintf(env_home, sizeof(env_home), "HOME=%s", home);
	/* The fallback cache ($TMPDIR/.jumpgate-UID) in the same place: never the real /tmp */
	snprintf(env_tmp, sizeof(env_tmp), "TMPDIR=%s", r->tmpdir != NULL ? r->tmpdir : home);
	if (cmd == NULL || r->boot == NULL ||
	    asprintf(&line, "%s%s", r->prefix != NULL ? r->prefix : "", cmd) < 0)
		goto out;
	argv[2] = line;
	if ((rc = jg_spawn(&o, &r->c, err, sizeof(err))) != 0)
		fprintf(stderr, "\ncannot spawn the stub: %s\n", err);
out:
	free(line);
	free(cmd);
	return rc;
}

/* One round of I/O for R; 0 while it runs, 1 when finished (stub or agent gone). */
static int run_step(struct run *r, const struct jg_agent_build *b)
{
	struct pollfd p[3] = {{r->c.out_fd, POLLIN, 0},
			      {r->c.err_fd, POLLIN, 0},
			      {r->send_fd >= 0 ? r->c.in_fd : -1, POLLOUT, 0}};
	char buf[65536];
	ssize_t n;

	if (poll(p, 3, 50) < 0)
		return 0;
	if (p[1].revents != 0 && (n = read(r->c.err_fd, buf, sizeof(buf))) > 0) {
		n = n < (ssize_t)(sizeof(r->err) - 1 - r->errlen)
			? n
			: (ssize_t)(sizeof(r->err) - 1 - r->errlen);
		memcpy(r->err + r->errlen, buf, (size_t)n);
		r->errlen += (size_t)n;
		r->err[r->errlen] = '\0';
	}
	if (p[2].revents != 0) {
		size_t want =
		    r->send_limit - r->sent < sizeof(buf) ? r->send_limit - r->sent : sizeof(buf);

		n = want > 0 ? pread(r->send_fd, buf, want, (off_t)r->sent) : 0;
		if (n > 0 && (n = write(r->c.in_fd, buf, (size_t)n)) > 0)
			r->sent += (size_t)n;
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			close(r->send_fd);
			r->send_fd = -1;
			if (r->sent < b->size) { /* a cut upload: EOF for the stub */
				close(r->c.in_fd);
				r->c.in_fd = -1;
			}
		}
	}
	if (p[0].revents == 0)
		return 0;
	if ((n = read(r->c.out_fd, buf, sizeof(buf))) <= 0)
		return n == 0 || (errno != EAGAIN && errno != EINTR);
	if (r->ev == JG_BOOT_AGENT || r->ev == JG_BOOT_FAILED)
		return 0; /* draining until the child exits */
	r->ev = jg_boot_feed(r->boot, buf, (size_t)n);
	if (r->ev == JG_BOOT_NEED) {
		r->needs++;
		r->send_fd = open(b->path, O_RDONLY | O_CLOEXEC);
		CU_ASSERT(r->send_fd >= 0);
	} else if (r->ev == JG_BOOT_AGENT && r->c.in_fd >= 0) {
		close(r->c.in_fd); /* EOF: the agent exits */
		r->c.in_fd = -1;
	}
	return 0;
}

static void run_finish(struct run *r)
{
	if (r->send_fd >= 0)
		close(r->send_fd);
	tu_close_child(&r->c);
	r->status = tu_wait_child(r->c.pid);
	if (r->ev == JG_BOOT_MORE || r->ev == JG_BOOT_NEED)
		fprintf(stderr, "\nstub stopped undecided; stderr: %s\n", r->err);
}

/* Run N stubs at once (same HOME: they race for the cache) to their end; 10 s bound. */
static void run_stubs(struct run *rs, size_t n, const char *home, const struct jg_agent_build *bs,
		      size_t nb)
{
	long end = tu_now_ms() + 10000;
	int done[4] = {0};
	size_t left = n;

	for (size_t i = 0; i < n; i++) {
		if (rs[i].send_limit == 0)
			rs[i].send_limit = (size_t)bs[0].size;
		CU_ASSERT_FATAL(run_start(&rs[i], home, bs, nb) == 0);
	}
	while (left > 0 && tu_now_ms() < end)
		for (size_t i = 0; i < n; i++)
			if (!done[i] && run_step(&rs[i], &bs[0])) {
				done[i] = 1;
				left--;
			}
	CU_ASSERT_EQUAL(left, 0);
	for (size_t i = 0; i < n; i++) {
		if (!done[i])
			kill(rs[i].c.pid, SIGKILL);
		run_finish(&rs[i]);
	}
}

static void run_free(struct run *r)
{
	jg_boot_free(r->boot);
	r->boot = NULL;
}

static int load_agent(struct jg_agent_build *b)
{
	char err[256];

	if (jg_agent_build_load(AGENT_PATH, b, err, sizeof(err)) == 0)
		return 0;
	fprintf(stderr, "\n%s\n", err);
	CU_FAIL("the agent must be built before the tests run");
	return -1;
}

/* Entries of DIR whose names start with PFX. */
static int count_entries(const char *dir, const char *pfx)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	while (d != NULL && (e = readdir(d)) != NULL)
		n += strncmp(e->d_name, pfx, strlen(pfx)) == 0;
	if (d != NULL)
		closedir(d);
	return n;
}

static void rm_home(const char *home)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", home);
	CU_ASSERT(system(cmd) == 0);
}

static void check_agent_ran(struct run *r)
{
	struct evbuffer *rest = jg_boot_rest(r->boot);

	CU_ASSERT_EQUAL(r->ev, JG_BOOT_AGENT);
	CU_ASSERT(evbuffer_get_length(rest) >= 2 && memcmp(evbuffer_pullup(rest, 2), "JG", 2) == 0);
	/* stdin closed: the agent leaves cleanly. */
	CU_ASSERT(WIFEXITED(r->status) && WEXITSTATUS(r->status) == 0);
}

static void t_stub_uploads_then_uses_cache(void)
{
	char home[] = "/tmp/jg-home-XXXXXX", dir[600], file[700];
	struct jg_agent_build b;
	struct run r[2] = {{0}};
	struct stat st;

	if (load_agent(&b) != 0 || mkdtemp(home) == NULL)
		return;
	/* A login that talks before the stub starts. */
	r[0].prefix = "echo motd; printf banner; ";
	run_stubs(&r[0], 1, home, &b, 1);
	CU_ASSERT_EQUAL(r[0].needs, 1);
	CU_ASSERT_EQUAL(r[0].sent, b.size);
	CU_ASSERT_EQUAL(jg_boot_discarded(r[0].boot), 5 + 6);
	CU_ASSERT_STRING_EQUAL(jg_boot_need_arch(r[0].boot), b.arch);
	CU_ASSERT_STRING_EQUAL(jg_boot_need_sha256(r[0].boot), b.sha256);
	check_agent_ran(&r[0]);
	snprintf(dir, sizeof(dir), "%s/.cache/jumpgate", home);
	snprintf(file, sizeof(file), "%s/agent-%s", dir, b.sha256);
	CU_ASSERT(stat(dir, &st) == 0 && (st.st_mode & 0777) == 0700);
	CU_ASSERT(stat(file, &st) == 0 && (st.st_mode & 0777) == 0700 &&
		  (uint64_t)st.st_size == b.size);
	CU_ASSERT_EQUAL(count_entries(dir, ".agent-"), 0);
	/* Cached: no need line, not one byte sent. */
	run_stubs(&r[1], 1, home, &b, 1);
	CU_ASSERT_EQUAL(r[1].needs, 0);
	CU_ASSERT_EQUAL(r[1].sent, 0);
	check_agent_ran(&r[1]);
	run_free(&r[0]);
	run_free(&r[1]);
	rm_home(home);
}

static void t_stub_two_gateways_at_once(void)
{
	char home[] = "/tmp/jg-home-XXXXXX", dir[600];
	struct jg_agent_build b;
	struct run r[2] = {{0}};

	if (load_agent(&b) != 0 || mkdtemp(home) == NULL)
		return;
	run_stubs(r, 2, home, &b, 1);
	for (int i = 0; i < 2; i++) {
		CU_ASSERT_EQUAL(r[i].needs, 1);
		check_agent_ran(&r[i]);
		run_free(&r[i]);
	}
	snprintf(dir, sizeof(dir), "%s/.cache/jumpgate", home);
	CU_ASSERT_EQUAL(count_entries(dir, "agent-"), 1);
	CU_ASSERT_EQUAL(count_entries(dir, ".agent-"), 0);
	rm_home(home);
}

/* Run one stub that must fail with a reason containing WANT; the cache keeps no file. */
static void expect_failure(const char *home, struct jg_agent_build *b, size_t send_limit, int needs,
			   const char *want)
{
	char dir[600];
	struct run r = {.send_limit = send_limit};

	run_stubs(&r, 1, home, b, 1);
	CU_ASSERT_EQUAL(r.ev, JG_BOOT_FAILED);
	CU_ASSERT_EQUAL(r.needs, needs);
	if (r.ev != JG_BOOT_FAILED || strstr(jg_boot_reason(r.boot), want) == NULL) {
		CU_FAIL("reason");
		fprintf(stderr, "\nreason \"%s\", want \"%s\"; stderr: %s\n",
			jg_boot_reason(r.boot), want, r.err);
	}
	CU_ASSERT(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 1);
	snprintf(dir, sizeof(dir), "%s/.cache/jumpgate", home);
	CU_ASSERT_EQUAL(count_entries(dir, ".agent-"), 0);
	CU_ASSERT_EQUAL(count_entries(dir, "agent-"), 0);
	run_free(&r);
}

/* A cached agent (here a script printing its arguments) is exec'd after the exec line,
 * with the stub's own arguments, whatever they hold. */
static void t_stub_runs_cached_agent_with_args(void)
{
	char home[] = "/tmp/jg-home-XXXXXX", dir[600], file[700], env_home[640], out[512];
	char *envp[] = {env_home, "PATH=/usr/bin:/bin", NULL};
	struct jg_agent_build b = {.sha256 = SHA_A, .size = 5, .path = "/nonexistent"};
	struct jg_spawn_opts o = {.envp = envp};
	struct jg_boot *boot;
	struct jg_child c;
	struct utsname u;
	char *stub, err[256];
	size_t n;

	if (mkdtemp(home) == NULL || uname(&u) != 0) {
		CU_FAIL("mkdtemp or uname");
		return;
	}
	snprintf(b.arch, sizeof(b.arch), "%s", u.machine);
	snprintf(dir, sizeof(dir), "%s/.cache/jumpgate", home);
	snprintf(file, sizeof(file), "%s/agent-%s", dir, SHA_A);
	snprintf(env_home, sizeof(env_home), "HOME=%s", home);
	snprintf(out, sizeof(out), "%s/.cache", home);
	CU_ASSERT_FATAL(mkdir(out, 0700) == 0 && mkdir(dir, 0700) == 0);
	tu_write_file(file, "#!/bin/sh\nprintf '[%s]' \"$@\"\n");
	CU_ASSERT_FATAL(chmod(file, 0700) == 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(stub = jg_bootstrap_stub(&b, 1));
	{
		char *argv[] = {"/bin/sh", "-c", stub, "jumpgate-stub", "a b", "--setns=pid:42",
				"it's $x", "",	 NULL};

		o.argv = argv;
		CU_ASSERT_EQUAL_FATAL(jg_spawn(&o, &c, err, sizeof(err)), 0);
	}
	n = tu_read_all(c.out_fd, out, sizeof(out));
	CU_ASSERT_EQUAL(tu_wait_child(c.pid), 0);
	tu_close_child(&c);
	CU_ASSERT_STRING_EQUAL(out, "jumpgate-stub: hello\njumpgate-stub: exec\n"
				    "[a b][--setns=pid:42][it's $x][]");
	/* The parser counts the stage; no bytes were asked for. */
	CU_ASSERT_FATAL((boot = jg_boot_new()) != NULL);
	CU_ASSERT_EQUAL(jg_boot_feed(boot, out, strcspn(out, "[")), JG_BOOT_MORE);
	CU_ASSERT_EQUAL(jg_boot_stages_done(boot), 1);
	jg_boot_free(boot);
	CU_ASSERT(n > 0);
	free(stub);
	rm_home(home);
}

static void t_stub_refuses_unknown_arch(void)
{
	char home[] = "/tmp/jg-home-XXXXXX", want[128];
	struct jg_agent_build b;
	struct utsname u;

	if (load_agent(&b) != 0 || mkdtemp(home) == NULL)
		return;
	uname(&u);
	snprintf(b.arch, sizeof(b.arch), "nosucharch");
	snprintf(want, sizeof(want), "no agent for architecture %s on the gateway", u.machine);
	expect_failure(home, &b, 0, 0, want);
	rm_home(home);
}

static void t_stub_detects_corruption_and_short_upload(void)
{
	char home[] = "/tmp/jg-home-XXXXXX", want[64];
	struct jg_agent_build b;

	if (load_agent(&b) != 0 || mkdtemp(home) == NULL)
		return;
	/* The stub's table names another sha256 than the file sent. */
	memset(b.sha256, '0', 64);
	expect_failure(home, &b, 0, 1, "corrupted on the target (its sha256 is ");
	/* Only 1000 bytes, then EOF. */
	load_agent(&b);
	snprintf(want, sizeof(want), "bytes: 1000/%llu)", (unsigned long long)b.size);
	expect_failure(home, &b, 1000, 1, want);
	rm_home(home);
}

static void t_stub_reports_unusable_home(void)
{
	struct jg_agent_build b;

	if (load_agent(&b) != 0)
		return;
	/* A HOME (and TMPDIR) that is a file: mkdir fails even for root, in both places;
	 * the reason names the second. */
	expect_failure("/dev/null", &b, 0, 0,
		       "cannot create the agent cache directory /dev/null/.jumpgate-");
}

/* A HOME that cannot hold the cache: the agent goes to $TMPDIR/.jumpgate-UID; a
 * directory there that someone else owns is never used, nor does it stop the hop: the
 * agent runs from a per-run directory, removed when it exits. */
static void t_stub_falls_back_to_tmpdir(void)
{
	char home[] = "/tmp/jg-home-XXXXXX", dir[600], pfx[64];
	struct jg_agent_build b;
	struct run r = {0}, r2 = {0};

	if (load_agent(&b) != 0 || mkdtemp(home) == NULL)
		return;
	/* .cache is a file: HOME's cache cannot be made */
	snprintf(dir, sizeof(dir), "%s/.cache", home);
	tu_write_file(dir, "not a directory");
	run_stubs(&r, 1, home, &b, 1);
	check_agent_ran(&r);
	CU_ASSERT_EQUAL(r.needs, 1);
	snprintf(dir, sizeof(dir), "%s/.jumpgate-%u", home, (unsigned)getuid());
	CU_ASSERT_EQUAL(count_entries(dir, "agent-"), 1);
	run_free(&r);
	/* the same directory, now owned by someone else: never used, never touched */
	if (getuid() == 0 && chown(dir, 65534, 65534) == 0) {
		run_stubs(&r2, 1, home, &b, 1);
		check_agent_ran(&r2);
		CU_ASSERT_EQUAL(r2.needs, 1);
		CU_ASSERT_EQUAL(count_entries(dir, ".agent-"), 0);
		/* the per-run directory is gone once the agent has exited */
		snprintf(pfx, sizeof(pfx), ".jumpgate-%u.", (unsigned)getuid());
		CU_ASSERT_EQUAL(count_entries(home, pfx), 0);
		run_free(&r2);
	}
	rm_home(home);
}

/* ---- another local user racing the stub (fs.protected_symlinks=0) ---- */

#define RACE_UID 65534 /* nobody: a real second account on every system */
#define RACE_PIDS 300  /* stub pids ($$) planted ahead */
#define RACE_PAYLOAD "#!/bin/sh\ntouch \"$0.pwned\"\nexit 0\n"

/* The next pids the kernel will hand out (a guess, good enough to plant ahead). */
static long race_next_pid(void)
{
	char buf[32] = "";
	FILE *f = fopen("/proc/sys/kernel/ns_last_pid", "r");
	long p = 0;

	if (f != NULL && fgets(buf, sizeof(buf), f) != NULL)
		p = atol(buf);
	if (f != NULL)
		fclose(f);
	return p + 1;
}

static int race_sysctl(const char *val, char *old, size_t oldlen)
{
	FILE *f = fopen("/proc/sys/fs/protected_symlinks", "r+");
	int ok = f != NULL;

	if (ok && old != NULL)
		ok = fgets(old, (int)oldlen, f) != NULL;
	if (ok) {
		rewind(f);
		ok = fputs(val, f) >= 0;
	}
	if (f != NULL && fclose(f) != 0)
		ok = 0;
	return ok ? 0 : -1;
}

/* The attacker, as RACE_UID: .jumpgate-0 in the shared TMP is a symlink to PLANT (a
 * root-owned sticky directory like /tmp), where every temp name the stub may pick is
 * either a symlink to VICTIM (SWAP 0) or a file of ours held open, rewritten with a
 * payload once the stub has hashed it and made it 0700 (SWAP 1).  Exits within 10 s. */
static void race_attacker(const char *tmp, const char *plant, const char *victim, const char *sha,
			  int swap, int ready_fd)
{
	static int fds[RACE_PIDS];
	char link[700], name[800];
	long first = race_next_pid();
	struct stat st;
	int left = 0;

	if (setgroups(0, NULL) != 0 || setgid(RACE_UID) != 0 || setuid(RACE_UID) != 0)
		_exit(2);
	snprintf(link, sizeof(link), "%s/.jumpgate-0", tmp);
	if (symlink(plant, link) != 0)
		_exit(3);
	for (int i = 0; i < RACE_PIDS; i++) {
		snprintf(name, sizeof(name), "%s/.agent-%s.%ld", plant, sha, first + i);
		fds[i] = -1;
		if (!swap)
			left += symlink(victim, name) == 0;
		else if ((fds[i] = open(name, O_RDWR | O_CREAT | O_EXCL, 0666)) >= 0)
			left++;
	}
	if (write(ready_fd, "r", 1) != 1)
		_exit(4);
	close(ready_fd);
	for (long end = tu_now_ms() + 10000; swap && tu_now_ms() < end;) {
		for (int i = 0; i < RACE_PIDS; i++)
			if (fds[i] >= 0 && fstat(fds[i], &st) == 0 && (st.st_mode & 0777) == 0700) {
				/* hashed, about to be run: ours now */
				if (ftruncate(fds[i], 0) != 0 ||
				    pwrite(fds[i], RACE_PAYLOAD, strlen(RACE_PAYLOAD), 0) < 0)
					_exit(5);
				close(fds[i]); /* no ETXTBSY for the exec */
				_exit(0);
			}
		usleep(200);
	}
	_exit(left > 0 ? 0 : 6);
}

static void race_one(int swap)
{
	char base[] = "/tmp/jg-race-XXXXXX", tmp[64], plant[64], victim[64];
	char buf[4] = "", pfx[32];
	struct jg_agent_build b;
	struct run r = {0};
	struct stat st;
	int pfd[2], status;
	pid_t pid;

	if (load_agent(&b) != 0 || mkdtemp(base) == NULL)
		return;
	snprintf(tmp, sizeof(tmp), "%s/tmp", base);
	snprintf(plant, sizeof(plant), "%s/plant", base);
	snprintf(victim, sizeof(victim), "%s/victim", base);
	CU_ASSERT_FATAL(chmod(base, 0755) == 0 && mkdir(tmp, 0700) == 0 && chmod(tmp, 01777) == 0 &&
			mkdir(plant, 0700) == 0 && chmod(plant, 01777) == 0);
	tu_write_file(victim, "precious\n");
	CU_ASSERT_FATAL(pipe(pfd) == 0);
	if ((pid = fork()) == 0) {
		close(pfd[0]);
		race_attacker(tmp, plant, victim, b.sha256, swap, pfd[1]);
	}
	close(pfd[1]);
	CU_ASSERT_FATAL(pid > 0 && read(pfd[0], buf, 1) == 1);
	close(pfd[0]);
	/* root with no HOME (lxc-attach --clear-env), TMPDIR the shared directory */
	r.tmpdir = tmp;
	run_stubs(&r, 1, "", &b, 1);
	/* the hop still works, from a directory of its own */
	check_agent_ran(&r);
	CU_ASSERT_EQUAL(r.needs, 1);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	/* nothing of root's was changed or run through the attacker's names */
	CU_ASSERT(stat(plant, &st) == 0 && (st.st_mode & 07777) == 01777);
	CU_ASSERT(tu_file_is(victim, "precious\n"));
	CU_ASSERT_EQUAL(count_entries(plant, "agent-"), 0);
	for (DIR *d = opendir(plant); d != NULL; d = NULL) {
		struct dirent *e;

		while ((e = readdir(d)) != NULL)
			if (strstr(e->d_name, ".pwned") != NULL) {
				CU_FAIL("the attacker's payload ran as root");
				fprintf(stderr, "\n%s ran as root\n", e->d_name);
			}
		closedir(d);
	}
	/* the per-run directory went with the agent */
	snprintf(pfx, sizeof(pfx), ".jumpgate-0.");
	CU_ASSERT_EQUAL(count_entries(tmp, pfx), 0);
	run_free(&r);
	rm_home(base);
}

static void t_stub_another_user_cannot_plant_or_swap(void)
{
	char old[16] = "";

	if (getuid() != 0 || race_sysctl("0", old, sizeof(old)) != 0) {
		/* Needs root (setuid to the second user, the sysctl). */
		fprintf(stderr, "\n  [skipped: needs root and a writable fs.protected_symlinks] ");
		return;
	}
	race_one(0); /* symlink plants: the directory and the temp file */
	race_one(1); /* the temp file rewritten after it was hashed */
	CU_ASSERT(race_sysctl(old, NULL, 0) == 0);
}

static void t_stub_reports_noexec_home(void)
{
	char home[] = "/tmp/jg-home-XXXXXX", want[128];
	struct jg_agent_build b;

	if (load_agent(&b) != 0 || mkdtemp(home) == NULL)
		return;
	if (mount("tmpfs", home, "tmpfs", MS_NOEXEC | MS_NOSUID | MS_NODEV, "size=16m") != 0) {
		/* Not root, or no CAP_SYS_ADMIN in this container. */
		fprintf(stderr, "\n  [skipped: cannot mount a noexec tmpfs: %s] ", strerror(errno));
		rmdir(home);
		return;
	}
	snprintf(want, sizeof(want),
		 "cannot execute the agent in %s/.cache/jumpgate (mounted noexec?)", home);
	expect_failure(home, &b, 0, 1, want);
	CU_ASSERT(umount2(home, MNT_DETACH) == 0);
	rmdir(home);
}

int jg_test_register_bootstrap_run(void)
{
	static const struct tu_test tests[] = {
	    {"stub (sh): upload once, then cached with no bytes sent",
	     t_stub_uploads_then_uses_cache},
	    {"stub (sh): two bootstraps racing for one cache", t_stub_two_gateways_at_once},
	    {"stub (sh): cached agent exec'd with the stub's arguments",
	     t_stub_runs_cached_agent_with_args},
	    {"stub (sh): unknown arch", t_stub_refuses_unknown_arch},
	    {"stub (sh): wrong sha256 and cut upload", t_stub_detects_corruption_and_short_upload},
	    {"stub (sh): HOME where no directory can be made", t_stub_reports_unusable_home},
	    {"stub (sh): falls back to TMPDIR, never to a directory of another owner",
	     t_stub_falls_back_to_tmpdir},
	    {"stub (sh): noexec home (tmpfs)", t_stub_reports_noexec_home},
	    {"stub (sh): another local user cannot plant or swap the TMPDIR agent",
	     t_stub_another_user_cannot_plant_or_swap},
	};

	return tu_add_suite("bootstrap_run", NULL, NULL, tests, sizeof(tests) / sizeof(tests[0]));
}
