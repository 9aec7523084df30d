/* The manual pages of the small commands (reset, stats, routes, targets, whoami, help), and
 * the one table `jumpgate help COMMAND` looks pages up in, so that every command has one. */
#include <stdio.h>
#include <string.h>

#include "client/client.h"
#include "client/help.h"

static const char reset_page[] =
    "NAME\n"
    "    jumpgate reset - close the gateway's connection to a target now\n"
    "\n"
    "SYNOPSIS\n"
    "    jumpgate [GLOBAL OPTIONS] reset TARGET\n"
    "\n"
    "DESCRIPTION\n"
    "    Closes the onward connection the gateway keeps to TARGET (the ssh session\n"
    "    and its agent).  Operations still running on it end with \"reset by\n"
    "    IDENTITY\"; the next operation opens a fresh connection (a changed host\n"
    "    key, a new ~/.ssh/config, a restarted container).  Needs the policy's\n"
    "    reset action on TARGET.\n"
    "\n"
    "EXIT STATUS\n"
    "    0: closed, or there was no open connection (said on stdout).  2: a usage\n"
    "    error.  255: refused or failed, with the gateway's reason on stderr.\n"
    "\n"
    "EXAMPLES\n"
    "    jumpgate reset web1\n"
    "    jumpgate reset site-b/db1\n";

static const char stats_page[] =
    "NAME\n"
    "    jumpgate stats - the gateway's statistics\n"
    "\n"
    "SYNOPSIS\n"
    "    jumpgate [GLOBAL OPTIONS] stats [--json]\n"
    "\n"
    "DESCRIPTION\n"
    "    Prints GET /v1/stats as the gateway answers it, one JSON document:\n"
    "    connections, streams, operations, bytes, the setup queue, and each\n"
    "    onward connection with its state (docs/api.md lists the fields).  The\n"
    "    output is JSON with or without --json (accepted, as for the other\n"
    "    commands, for scripts).  Needs the policy's admin action.\n"
    "\n"
    "EXIT STATUS\n"
    "    0: printed.  2: a usage error.  255: refused or failed (the reason on\n"
    "    stderr).\n"
    "\n"
    "EXAMPLES\n"
    "    jumpgate stats | jq .operations\n";

static const char routes_page[] =
    "NAME\n"
    "    jumpgate routes - the sites the gateway reaches\n"
    "\n"
    "SYNOPSIS\n"
    "    jumpgate [GLOBAL OPTIONS] routes [--json]\n"
    "\n"
    "DESCRIPTION\n"
    "    One line per site the gateway has a route to (multi-site): SITE, STATE\n"
    "    (up, lost), the NEXT_HOP gateway, the PATH of gateways, SINCE when (local\n"
    "    time), the next hop's round-trip time in milliseconds, and why a lost\n"
    "    site is lost.  A target at a site is SITE/TARGET.  Needs the policy's\n"
    "    admin action.\n"
    "\n"
    "OPTIONS\n"
    "    --json\n"
    "           print GET /v1/routes as the gateway answers it (docs/api.md).\n"
    "    -h, --help\n"
    "           print this page and exit.\n"
    "\n"
    "EXIT STATUS\n"
    "    0: printed.  2: a usage error.  255: refused or failed (the reason on\n"
    "    stderr).\n";

static const char targets_page[] =
    "NAME\n"
    "    jumpgate targets - the targets the gateway knows, and what we may do there\n"
    "\n"
    "SYNOPSIS\n"
    "    jumpgate [GLOBAL OPTIONS] targets [--json] [PATTERN]\n"
    "\n"
    "DESCRIPTION\n"
    "    Lists the gateway's inventory, one target a line: NAME, METHOD, the\n"
    "    GROUPS naming it, what we MAY do there under the gateway's policy, and\n"
    "    where it really goes (the resolved chain).  MAY lists the actions exec,\n"
    "    put, get, tunnel, reset; a trailing '*' (exec*) means only some commands\n"
    "    or paths are allowed.  An identity without the admin action sees only\n"
    "    the targets it may act on.  Then the sites the gateway reaches (when we\n"
    "    may see its routes): their targets are SITE/TARGET.\n"
    "\n"
    "    PATTERN is a target list as 'jumpgate run' takes it: comma-separated\n"
    "    names, globs (web*, db[12]) and groups, expanded by the gateway; a\n"
    "    SITE/PATTERN element is expanded at that site.  Only the targets it\n"
    "    names are listed, in its order; a name that is not in the inventory is\n"
    "    shown as 'not in the inventory' (a host name means ssh to it).\n"
    "\n"
    "OPTIONS\n"
    "    --json\n"
    "           one JSON document on stdout: {\"targets\": [...], \"sites\": [...]},\n"
    "           each target as GET /v1/targets gives it (name, method, display,\n"
    "           groups, actions), each site as GET /v1/routes (or null when we\n"
    "           may not see the routes).\n"
    "    -h, --help\n"
    "           print this page and exit.\n"
    "\n"
    "EXIT STATUS\n"
    "    0: listed.  1: PATTERN names no target.  2: a usage error.  255: refused\n"
    "    or failed (the reason on stderr).\n"
    "\n"
    "EXAMPLES\n"
    "    jumpgate targets\n"
    "    jumpgate targets 'web*,db1'\n"
    "    jumpgate targets --json | jq -r '.targets[].name'\n";

static const char whoami_page[] =
    "NAME\n"
    "    jumpgate whoami - who the gateway takes us for\n"
    "\n"
    "SYNOPSIS\n"
    "    jumpgate [GLOBAL OPTIONS] whoami [--json]\n"
    "\n"
    "DESCRIPTION\n"
    "    Asks the gateway (GET /v1/whoami) for the identity its policy rules see\n"
    "    for us, and prints it: the identity (from our client certificate as the\n"
    "    gateway's `identity` setting reads it, or unix:USER on its Unix socket),\n"
    "    how it was learnt, our address as the gateway sees it, and whether we\n"
    "    have the admin action (stats, routes, the whole inventory).  The first\n"
    "    thing to check when the gateway denies something.\n"
    "\n"
    "OPTIONS\n"
    "    --json\n"
    "           the gateway's answer: {\"identity\", \"via\", \"peer\",\n"
    "           \"authenticated_by\", \"admin\"}.\n"
    "    -h, --help\n"
    "           print this page and exit.\n"
    "\n"
    "EXIT STATUS\n"
    "    0: printed.  2: a usage error.  255: no connection, or refused (the\n"
    "    reason on stderr: a certificate the gateway does not accept).\n";

static const char help_page[] =
    "NAME\n"
    "    jumpgate help - the manual page of jumpgate or of one command\n"
    "\n"
    "SYNOPSIS\n"
    "    jumpgate help [COMMAND]\n"
    "\n"
    "DESCRIPTION\n"
    "    Without COMMAND, the main page (as jumpgate --help).  With one, the page\n"
    "    of COMMAND (as jumpgate COMMAND --help): exec, cp, run, rsh, connect,\n"
    "    reset, stats, routes, targets, whoami, help.  man jumpgate has them all.\n"
    "\n"
    "EXIT STATUS\n"
    "    0: printed.  2: no such command (said on stderr).\n";

#define PAGE(name, text)                                                                           \
	void jg_help_##name(void)                                                                  \
	{                                                                                          \
		fputs(text, stdout);                                                               \
	}
PAGE(reset, reset_page)
PAGE(stats, stats_page)
PAGE(routes, routes_page)
PAGE(targets, targets_page)
PAGE(whoami, whoami_page)
PAGE(help, help_page)

int jg_help_show(const char *cmd)
{
	static const struct {
		const char *name;
		void (*show)(void);
	} pages[] = {
	    {"exec", jg_help_exec},	{"cp", jg_help_cp},	      {"run", jg_help_run},
	    {"rsh", jg_help_rsh},	{"connect", jg_help_connect}, {"reset", jg_help_reset},
	    {"stats", jg_help_stats},	{"routes", jg_help_routes},   {"targets", jg_help_targets},
	    {"whoami", jg_help_whoami}, {"help", jg_help_help},
	};

	if (cmd == NULL) {
		jg_help_main();
		return 0;
	}
	for (size_t i = 0; i < sizeof(pages) / sizeof(pages[0]); i++) {
		if (strcmp(cmd, pages[i].name) == 0) {
			pages[i].show();
			return 0;
		}
	}
	return jg_client_usage("no help for '%s': not a command (jumpgate help lists them)", cmd);
}
