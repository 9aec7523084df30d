# libFuzzer harnesses (clang): `make fuzz` builds them, FUZZ_SECONDS sets the run.
