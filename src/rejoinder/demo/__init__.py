"""Sample content for `rejoinder demo`: fictional articles and discussions."""
