"""Benchmark scripts: each prints numbers when run as ``python -m bench.<name>``; none is a test."""
