"""The web layer: the app factory, pages, the JSON API, feeds. Thin: it calls use cases."""
