"""Reading `/metrics` as Prometheus would: with prometheus-client's own text-format parser."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

Labels = frozenset[tuple[str, str]]


def samples(text: str) -> dict[tuple[str, Labels], float]:
    """Every sample by (sample name, labels); parsing fails loudly on a malformed text."""
    found: dict[tuple[str, Labels], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            key = (sample.name, frozenset(sample.labels.items()))
            assert key not in found, f"{key} appears twice"
            found[key] = sample.value
    return found


def value(found: dict[tuple[str, Labels], float], name: str, **labels: str) -> float:
    """The sample `name` with exactly `labels`, or 0 when it was never counted."""
    return found.get((name, frozenset(labels.items())), 0.0)


def total(found: dict[tuple[str, Labels], float], name: str, **labels: str) -> float:
    """The sum of the samples `name` whose labels include `labels`."""
    wanted = set(labels.items())
    return sum(v for (n, have), v in found.items() if n == name and wanted <= have)


def label_values(found: dict[tuple[str, Labels], float], name: str, label: str) -> set[str]:
    return {
        dict(have)[label] for (n, have), _ in found.items() if n == name and label in dict(have)
    }
