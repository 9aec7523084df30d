/* jumpgate rsh: not implemented yet (being written). */
#include "client/client.h"

int jg_cmd_rsh(struct jg_client *c, int argc, char **argv)
{
	(void)c;
	(void)argc;
	(void)argv;
	jg_client_fail("rsh is not implemented yet");
	return JG_EXIT_FAILURE;
}
