"""The package version: one place, read by the facade, the files the library writes and
the command line (a test keeps it equal to ``pyproject.toml``'s)."""

__version__ = "0.1.0"
