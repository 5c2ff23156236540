"""bench/run's orchestration: processes, scenarios for BENCH.md's figures, and the table."""
