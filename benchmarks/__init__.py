"""Benchmarks: ndgrad against hand-written NumPy and PyTorch CPU eager. Run `python -m benchmarks`."""
