"""Tests that need a real `rejoinder serve` process (or several): workers, signals, sockets."""
