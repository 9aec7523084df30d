# Benchmarks: `make bench`; they print ratios against a local baseline.
