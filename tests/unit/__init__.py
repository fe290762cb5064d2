"""Fast tests of the pure core, settings and events: no server, no database."""
