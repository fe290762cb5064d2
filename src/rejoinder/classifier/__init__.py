"""The moderation model shipped in the package: per-category scores with the spans behind them
(`model.py`); importing the package loads nothing, so reading `meta.json` stays cheap."""
