"""Tests against the real app in this process (create_app, its lifespan, httpx over ASGI)."""
