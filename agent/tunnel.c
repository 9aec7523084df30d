/* TUNNEL channels: not implemented yet (being written). */
#include <stdint.h>

#include "agent/agent.h"
#include "relay/frame.h"
#include "relay/link.h"

void jg_agent_tunnel_open(struct jg_agent *a, uint32_t ch, const struct jg_frame *f)
{
	(void)f;
	jg_link_reject(a->link, ch, "tunnels are not supported by this agent yet");
}

void jg_agent_tunnel_resume_all(struct jg_agent *a)
{
	(void)a;
}

void jg_agent_tunnel_free_all(struct jg_agent *a)
{
	(void)a;
}
