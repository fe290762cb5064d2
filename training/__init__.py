"""Offline: reading the corpora, training and evaluating the shipped model; never imported by the
server. It writes `src/rejoinder/classifier/weights/`, whose `meta.json` the package reads
through `rejoinder.classifier.meta`."""
