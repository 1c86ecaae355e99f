"""eval-agent: a terminal coding agent whose every run becomes training data."""

__version__ = "0.1.0"
