# systemd: jumpgated.service (Type=notify, watchdog, hardening), jumpgated.socket
# (socket activation), the sysusers.d and tmpfiles.d entries; notes in
# systemd/systemd.md.  Always generated (tests/integration/t_systemd.sh checks
# them); installed when configure found libsystemd (a Type=notify unit needs
# the READY=1 that only a build with it sends), under $(prefix)/lib/ unless
# --with-systemdsystemunitdir/--with-sysusersdir/--with-tmpfilesdir say
# otherwise (a directory; "yes": the one systemd.pc names; "no": none).
SYSTEMD_UNITS = systemd/jumpgated.service systemd/jumpgated.socket
SYSTEMD_SYSUSERS = systemd/sysusers.d/jumpgate.conf
SYSTEMD_TMPFILES = systemd/tmpfiles.d/jumpgate.conf
nodist_noinst_DATA = $(SYSTEMD_UNITS) $(SYSTEMD_SYSUSERS) $(SYSTEMD_TMPFILES)
CLEANFILES += $(SYSTEMD_UNITS) $(SYSTEMD_SYSUSERS) $(SYSTEMD_TMPFILES)
EXTRA_DIST += systemd/jumpgated.service.in systemd/jumpgated.socket.in \
	systemd/jumpgate.sysusers systemd/jumpgate.tmpfiles
dist_doc_DATA += systemd/systemd.md

if INSTALL_SYSTEMD_UNITS
systemdsystemunit_DATA = $(SYSTEMD_UNITS)
endif
if INSTALL_SYSUSERS
sysusers_DATA = $(SYSTEMD_SYSUSERS)
endif
if INSTALL_TMPFILES
tmpfiles_DATA = $(SYSTEMD_TMPFILES)
endif


# Installation paths are known only at make time, hence sed here rather than
# AC_CONFIG_FILES (the automake manual's way for @bindir@ and friends).
systemd_edit = sed -e 's|@bindir[@]|$(bindir)|g' -e 's|@docdir[@]|$(docdir)|g' \
	-e 's|@sysconfdir[@]|$(sysconfdir)|g' -e 's|@pkglibexecdir[@]|$(pkglibexecdir)|g'

systemd/jumpgated.service: $(srcdir)/systemd/jumpgated.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) systemd && rm -f $@ $@.tmp && \
	$(systemd_edit) $(srcdir)/systemd/jumpgated.service.in >$@.tmp && mv $@.tmp $@
systemd/jumpgated.socket: $(srcdir)/systemd/jumpgated.socket.in Makefile
	$(AM_V_GEN)$(MKDIR_P) systemd && rm -f $@ $@.tmp && \
	$(systemd_edit) $(srcdir)/systemd/jumpgated.socket.in >$@.tmp && mv $@.tmp $@
# Both install as jumpgate.conf (the name sysusers.d and tmpfiles.d expect).
systemd/sysusers.d/jumpgate.conf: $(srcdir)/systemd/jumpgate.sysusers
	$(AM_V_GEN)$(MKDIR_P) systemd/sysusers.d && cat $(srcdir)/systemd/jumpgate.sysusers >$@
systemd/tmpfiles.d/jumpgate.conf: $(srcdir)/systemd/jumpgate.tmpfiles
	$(AM_V_GEN)$(MKDIR_P) systemd/tmpfiles.d && cat $(srcdir)/systemd/jumpgate.tmpfiles >$@
