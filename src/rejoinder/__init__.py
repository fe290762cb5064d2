"""Rejoinder: the discussion under news and opinion articles, self-hosted."""

__version__ = "0.1.0"
