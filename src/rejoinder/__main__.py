"""`python -m rejoinder` is the `rejoinder` command."""

from rejoinder.cli import main

main()
