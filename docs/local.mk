# Man pages and the example configuration, installed by `make install`
# (issue 17): jumpgate(1), jumpgated(8), jumpgated.conf(5), and
# $(docdir)/examples/jumpgated.conf.example.  t_manpages.sh renders each page
# with groff -ww and checks that jumpgated.conf(5) names every key config/
# parses; t_package.sh checks them in the Debian package.
dist_man_MANS = docs/jumpgate.1 docs/jumpgated.8 docs/jumpgated.conf.5
examplesdir = $(docdir)/examples
dist_examples_DATA = config/jumpgated.conf.example
