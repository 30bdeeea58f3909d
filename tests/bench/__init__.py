"""Benchmarks, run as modules (python -m tests.bench.bench_seed); pytest collects nothing here."""
