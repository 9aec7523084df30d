pkglibexec_PROGRAMS += jumpgate-agent
jumpgate_agent_SOURCES = agent/main.c agent/agent.h agent/exec.c agent/tunnel.c agent/files.c agent/files.h \
	agent/files_put.c agent/files_get.c agent/files_journal.c \
	agent/trampoline.c agent/trampoline.h agent/setns.c agent/setns_pid.c agent/setns_user.c \
	agent/askpass.c agent/pump.c agent/pump.h
jumpgate_agent_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS)
if STATIC_AGENT
# Static: the agent is copied to targets that have nothing installed.
jumpgate_agent_LDFLAGS = $(AM_LDFLAGS) -static
jumpgate_agent_LDADD = librelay.a -levent_core
else
jumpgate_agent_LDADD = librelay.a $(LIBEVENT_LIBS)
endif
