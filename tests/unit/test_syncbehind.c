/* relay/syncbehind.c: a file being written is flushed in the background every
 * STEP bytes, at most one flush in flight, and finish() leaves nothing running. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/CUnit.h>

#include "relay/syncbehind.h"
#include "tests/unit/suites.h"

#define MIB (1u << 20)

/* A temporary file, unlinked at once: its fd. */
static int tmpfd(void)
{
	char path[] = "/tmp/jg-syncbehind.XXXXXX";
	int fd = mkstemp(path);

	if (fd >= 0)
		unlink(path);
	return fd;
}

/* Writes MB MiB to FD one MiB at a time, telling S after each; the total. */
static uint64_t write_mib(struct jg_syncbehind *s, int fd, unsigned mb)
{
	static char buf[MIB];
	uint64_t total = 0;

	memset(buf, 'j', sizeof(buf));
	for (unsigned i = 0; i < mb; i++) {
		if (write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf))
			break;
		total += sizeof(buf);
		jg_syncbehind_wrote(s, total);
		CU_ASSERT(s->asked_at <= total);
	}
	return total;
}

/* Every STEP bytes a flush is asked (when none is in flight), and all of them
 * have finished after finish(); the file is whole and still writable. */
static void test_flushes(void)
{
	struct jg_syncbehind s;
	int fd = tmpfd();

	CU_ASSERT_FATAL(fd >= 0);
	jg_syncbehind_init(&s, fd, 2 * MIB);
	CU_ASSERT_EQUAL(write_mib(&s, fd, 12), 12 * MIB);
	CU_ASSERT(s.asked_at >= 2 * MIB); /* the first was asked at 2 MiB at the latest */
	CU_ASSERT_EQUAL(s.asked_at % (1 * MIB), 0);
	jg_syncbehind_finish(&s);
	CU_ASSERT_EQUAL(s.pending, 0);
	CU_ASSERT(s.done >= 1 && s.done <= 6); /* one per 2 MiB at most */
	CU_ASSERT_EQUAL(lseek(fd, 0, SEEK_END), (off_t)(12 * MIB));
	CU_ASSERT_EQUAL(fsync(fd), 0);
	jg_syncbehind_finish(&s); /* again: nothing in flight, returns at once */
	CU_ASSERT_EQUAL(s.pending, 0);
	close(fd);
}

/* Under STEP nothing is asked; STEP 0 is off. */
static void test_below_step_and_off(void)
{
	struct jg_syncbehind s;
	int fd = tmpfd();

	CU_ASSERT_FATAL(fd >= 0);
	jg_syncbehind_init(&s, fd, 64 * MIB);
	write_mib(&s, fd, 3);
	CU_ASSERT_EQUAL(s.pending, 0);
	CU_ASSERT_EQUAL(s.asked_at, 0);
	jg_syncbehind_init(&s, fd, 0);
	write_mib(&s, fd, 3);
	CU_ASSERT_EQUAL(s.pending, 0);
	CU_ASSERT_EQUAL(s.asked_at, 0);
	jg_syncbehind_finish(&s);
	CU_ASSERT_EQUAL(s.done, 0);
	close(fd);
}

/* A flush that cannot be asked (a bad fd) turns it off quietly: the caller's own
 * fsync is what reports the error, and finish() does not wait for anything. */
static void test_bad_fd(void)
{
	struct jg_syncbehind s;

	jg_syncbehind_init(&s, -1, 1);
	jg_syncbehind_wrote(&s, 10);
	jg_syncbehind_finish(&s);
	CU_ASSERT_EQUAL(s.pending, 0);
	/* Refused when asked (EBADF): off.  Or accepted and failed in the background:
	 * finished, the failure not ours to report.  Never both pending and on. */
	CU_ASSERT(s.step == 0 || s.done == 1);
}

int jg_test_register_syncbehind(void)
{
	CU_pSuite s = CU_add_suite("syncbehind", NULL, NULL);

	if (s == NULL ||
	    CU_add_test(s, "a flush every STEP bytes, all finished by finish()", test_flushes) ==
		NULL ||
	    CU_add_test(s, "nothing below STEP, nothing when off", test_below_step_and_off) ==
		NULL ||
	    CU_add_test(s, "a flush that cannot be asked turns it off", test_bad_fd) == NULL)
		return -1;
	return 0;
}
