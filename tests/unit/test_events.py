"""Tests for the event registry: arguments, unknown names, and a failing listener."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from rejoinder import events
from rejoinder.events import Events


class Recorder:
    """A listener that remembers each call."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, name: str, **arguments: Any) -> None:
        self.calls.append((name, arguments))


def test_listener_gets_the_event_name_and_its_arguments() -> None:
    registry, heard = Events(), Recorder()
    registry.connect(events.COMMENT_DELETED, heard)
    article = object()
    registry.fire(events.COMMENT_DELETED, comment_id=7, article=article)
    assert heard.calls == [("comment_deleted", {"comment_id": 7, "article": article})]


def test_listeners_run_in_the_order_they_were_connected() -> None:
    registry, order = Events(), []
    registry.connect(events.COMMENT_POSTED, lambda name, **kw: order.append("first"))
    registry.connect(events.COMMENT_POSTED, lambda name, **kw: order.append("second"))
    registry.fire(events.COMMENT_POSTED, comment=None, article=None)
    assert order == ["first", "second"]


def test_a_listener_hears_only_its_own_event() -> None:
    registry, heard = Events(), Recorder()
    registry.connect(events.ARTICLE_PUBLISHED, heard)
    registry.fire(events.COMMENT_POSTED, comment=1, article=2)
    assert heard.calls == []
    registry.fire(events.ARTICLE_PUBLISHED, article=3)
    assert heard.calls == [("article_published", {"article": 3})]


def test_connect_all_hears_every_event() -> None:
    registry, heard = Events(), Recorder()
    registry.connect_all(heard)
    for name in events.NAMES:
        registry.fire(name, marker=name)
    assert [name for name, _ in heard.calls] == list(events.NAMES)
    assert set(events.NAMES) == {
        "comment_posted",
        "comment_approved",
        "comment_edited",
        "comment_deleted",
        "comment_reported",
        "article_published",
        "discussion_changed",
        "site_changed",
    }


def test_firing_with_no_listeners_does_nothing() -> None:
    Events().fire(events.COMMENT_EDITED, comment=1, article=2)


@pytest.mark.parametrize("name", ["comment_created", "COMMENT_POSTED", "", "comment_posted "])
def test_unknown_event_name_is_refused(name: str) -> None:
    registry = Events()
    with pytest.raises(ValueError, match="unknown event"):
        registry.connect(name, Recorder())


def test_registries_are_separate() -> None:
    one, two, heard = Events(), Events(), Recorder()
    one.connect(events.COMMENT_POSTED, heard)
    two.fire(events.COMMENT_POSTED, comment=1, article=2)
    assert heard.calls == []


def test_a_listener_that_raises_does_not_stop_the_others_and_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    registry, before, after = Events(), Recorder(), Recorder()

    def broken(name: str, **arguments: Any) -> None:
        raise RuntimeError("mail server down")

    registry.connect(events.COMMENT_POSTED, before)
    registry.connect(events.COMMENT_POSTED, broken)
    registry.connect(events.COMMENT_POSTED, after)
    with caplog.at_level(logging.ERROR, logger="rejoinder.events"):
        registry.fire(events.COMMENT_POSTED, comment=5, article=6)  # does not raise

    assert before.calls == after.calls == [("comment_posted", {"comment": 5, "article": 6})]
    [record] = [r for r in caplog.records if r.name == "rejoinder.events"]
    assert record.levelno == logging.ERROR
    assert "comment_posted" in record.getMessage()
    assert record.exc_info is not None
    assert isinstance(record.exc_info[1], RuntimeError)
    assert "mail server down" in caplog.text


def test_a_listener_with_the_wrong_signature_is_logged_not_raised(
    caplog: pytest.LogCaptureFixture,
) -> None:
    registry, after = Events(), Recorder()
    registry.connect(events.COMMENT_EDITED, lambda name: None)  # takes no keyword arguments
    registry.connect(events.COMMENT_EDITED, after)
    with caplog.at_level(logging.ERROR, logger="rejoinder.events"):
        registry.fire(events.COMMENT_EDITED, comment=1, article=2)
    assert len(after.calls) == 1
    assert any(isinstance(r.exc_info[1], TypeError) for r in caplog.records if r.exc_info)


def test_a_listener_within_gets_the_connection_and_is_not_fired_after_commit() -> None:
    registry, within, after = Events(), Recorder(), Recorder()
    registry.connect_within(events.COMMENT_POSTED, within)
    registry.connect(events.COMMENT_POSTED, after)
    conn = object()
    registry.within(conn, events.COMMENT_POSTED, comment=1, article=2, parent=None)
    assert within.calls == [
        ("comment_posted", {"conn": conn, "comment": 1, "article": 2, "parent": None})
    ]
    assert after.calls == []
    registry.fire(events.COMMENT_POSTED, comment=1, article=2)
    assert len(within.calls) == 1 and len(after.calls) == 1


def test_a_listener_within_that_raises_raises_to_the_write() -> None:
    registry = Events()

    def broken(name: str, **arguments: Any) -> None:
        raise RuntimeError("the notice could not be written")

    registry.connect_within(events.COMMENT_POSTED, broken)
    with pytest.raises(RuntimeError, match="notice"):
        registry.within(object(), events.COMMENT_POSTED, comment=1, article=2, parent=None)
    with pytest.raises(ValueError, match="unknown event"):
        registry.connect_within("comment_created", broken)
