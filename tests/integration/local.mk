# Integration tests: real jumpgated, real agent, real TLS; see tests/integration/lib.sh.
