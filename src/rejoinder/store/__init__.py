"""Storage: the only package that speaks SQL. It returns core models."""
