"""One-off investigations, their conclusions in README.md; outside make and CI: `python -m experiments.<name>`."""
