"""asv benchmarks for poolref (see docs/benchmarks.md); compare_torch.py is a standalone script."""
