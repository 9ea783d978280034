"""The release, in one place: the package metadata reads it (pyproject.toml), and so does the
code, without the cost of importlib.metadata on every start (cron pays it every run)."""

__version__ = "0.1.0"
