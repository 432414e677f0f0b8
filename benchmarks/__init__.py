"""Benchmarks for dsshare (run with ``python -m benchmarks.<name>``)."""
