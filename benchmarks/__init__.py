"""Benchmarks for Oneday: `python -m benchmarks` (or `make bench`). See benchmarks/README.md."""
