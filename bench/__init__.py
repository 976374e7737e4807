"""Benchmarks against the targets in PRODUCT.md; ``python -m bench`` prints one table."""
