# Structure checks run by `make check` (no build products needed).
# layers.sh: no file of a lower gateway layer includes a higher layer's header
# (DESIGN.md, "the gateway's layers"); `make check-layers` runs it alone.
TESTS += tests/lint/layers.sh
EXTRA_DIST += tests/lint/layers.sh
check-layers:
	srcdir='$(abs_top_srcdir)' $(SHELL) $(abs_top_srcdir)/tests/lint/layers.sh
.PHONY: check-layers
