"""Benchmarks: each bench_*.py prints figures and ratios against a peer or a physical limit."""
