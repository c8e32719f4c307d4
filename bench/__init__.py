"""The benchmarks behind the published figures: run each as `python -m bench.<name>` from the repository root."""
