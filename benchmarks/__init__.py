"""The benchmarks: run by hand from the repository root, as modules
(``python -m benchmarks.<name> --help``); each prints its figures and writes them under
``benchmarks/results/``."""
