"""`make bench`: the national-scale load and timing benchmarks (see README, Benchmarks)."""
