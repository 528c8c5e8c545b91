"""Benchmarks: quality and speed against peers on real data (``python -m benchmarks.NAME --data DIR``)."""
