"""Tenfold benchmarks: `python -m bench fleet|devices|all` (see docs/benchmarks.md).

Never run in CI and never collected by pytest (no test_*.py here). Each run uses a throw-away database
(`bench_<random>` on the local PostgreSQL, or SQLite in a temporary folder with `--sqlite`) and talks
only to 127.0.0.1.
"""
