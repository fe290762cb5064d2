"""Rejoinder's own import format, "rejoinder-import" version 1: JSON Lines in UTF-8.

The first line is the header, `{"format": "rejoinder-import", "version": 1}`; each further
line is one thread with all its comments, so a file is read one thread at a time whatever
its size. `import-format.schema.json`, beside this module, is the JSON Schema of a thread
line and of the header; docs/IMPORT.md describes it for people.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from rejoinder.core.imports.records import (
    BodyFormat,
    ImportFileError,
    Kind,
    SourceComment,
    SourceStatus,
    SourceThread,
    ThreadBatch,
)

FORMAT = "rejoinder-import"
VERSION = 1
_STATUSES = {status.value: status for status in SourceStatus}
_KINDS = {kind.value: kind for kind in Kind}


def lines(chunks: Iterable[bytes]) -> Iterator[tuple[int, bytes]]:
    """The file's lines, numbered from 1, without their line ends (LF or CRLF)."""
    number = 0
    rest = b""
    for chunk in chunks:
        rest += chunk
        *whole, rest = rest.split(b"\n")
        for line in whole:
            number += 1
            yield number, line.rstrip(b"\r")
    if rest.strip():
        yield number + 1, rest.rstrip(b"\r")


def json_lines(chunks: Iterable[bytes]) -> Iterator[tuple[int, Any]]:
    """Each non-blank line of a JSON-lines file, numbered from 1, parsed (a byte-order mark
    at the file's start is dropped); ImportFileError names a line that is not UTF-8 or not
    JSON."""
    for number, raw in lines(chunks):
        try:
            text = raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError as error:
            raise ImportFileError(
                f"not UTF-8 (byte {error.start + 1} of the line)", number
            ) from None
        if not text.strip():
            continue
        try:
            yield number, json.loads(text)
        except json.JSONDecodeError as error:
            raise ImportFileError(
                f"not JSON ({error.msg} at column {error.colno}): a truncated file?", number
            ) from None


GZIP_MAGIC = b"\x1f\x8b"
INFLATED_MAX = 1 << 20  # bytes of decompressed text per step


def gunzipped(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """The chunks as they are, or decompressed when the file is gzip (as remark42's backups
    and Commento's exports come): read as a stream, so memory stays bounded."""
    stream = iter(chunks)
    first = b""
    for chunk in stream:
        first += chunk
        if len(first) >= 2:
            break
    if not first.startswith(GZIP_MAGIC):
        if first:
            yield first
        yield from stream
        return
    inflate = zlib.decompressobj(wbits=31)
    try:
        for chunk in _chain(first, stream):
            pending = chunk
            while pending:
                if inflate.eof:  # another gzip member follows the one just ended
                    inflate = zlib.decompressobj(wbits=31)
                # At most INFLATED_MAX out per call: a small compressed chunk can hold a
                # great deal, and memory must not follow it.
                out = inflate.decompress(pending, INFLATED_MAX)
                if out:
                    yield out
                pending = inflate.unconsumed_tail or (inflate.unused_data if inflate.eof else b"")
    except zlib.error as error:
        raise ImportFileError(f"the gzip file is damaged ({error})") from None
    if not inflate.eof:
        raise ImportFileError("the gzip file ends early (truncated?)")


def _chain(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    yield first
    yield from rest


def _text(data: dict[str, Any], key: str, where: str, *, required: bool = False) -> str | None:
    value = data.get(key)
    if value is None or (required and value == ""):
        if required:
            raise ValueError(f"{where}: {key!r} is required")
        return None
    if (
        key in ("id", "parent", "page_id")
        and isinstance(value, int)
        and not isinstance(value, bool)
    ):
        return str(value)  # ids written as numbers are read as their digits
    if not isinstance(value, str):
        raise ValueError(f"{where}: {key!r} must be a string")
    return value


def _date(value: str | None, where: str) -> datetime:
    if value is None:
        raise ValueError(f"{where}: 'created_at' is required")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{where}: 'created_at' {value!r} is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        raise ValueError(f"{where}: 'created_at' {value!r} needs its offset (Z for UTC)")
    return moment.astimezone(UTC)


def _comment(data: Any, index: int, line: int) -> SourceComment:
    where = f"comments[{index}]"
    if not isinstance(data, dict):
        raise ValueError(f"{where} must be an object")
    source_id = _text(data, "id", where, required=True)
    author = data.get("author", {})
    if not isinstance(author, dict):
        raise ValueError(f"{where}: 'author' must be an object")
    status = _STATUSES.get(str(data.get("status", "approved")))
    if status is None:
        raise ValueError(f"{where}: 'status' must be one of {', '.join(_STATUSES)}")
    kind = _KINDS.get(str(data.get("kind", "comment")))
    if kind is None:
        raise ValueError(f"{where}: 'kind' must be one of {', '.join(_KINDS)}")
    body_format = data.get("body_format", "markdown")
    if body_format not in ("html", "markdown"):
        raise ValueError(f"{where}: 'body_format' must be html or markdown")
    fmt: BodyFormat = "html" if body_format == "html" else "markdown"
    return SourceComment(
        source_id=str(source_id),
        parent_id=_text(data, "parent", where) or None,
        name=_text(author, "name", f"{where}.author") or "",
        email=_text(author, "email", f"{where}.author") or "",
        website=_text(author, "website", f"{where}.author") or None,
        created_at=_date(_text(data, "created_at", where), where),
        status=status,
        body=_text(data, "body", where) or "",
        body_format=fmt,
        kind=kind,
        line=line,
    )


def _thread(data: Any, line: int) -> ThreadBatch:
    if not isinstance(data, dict):
        raise ValueError("a thread line must be an object")
    thread = data.get("thread")
    if not isinstance(thread, dict):
        raise ValueError("'thread' is required and must be an object")
    page_id = _text(thread, "page_id", "thread")
    url = _text(thread, "url", "thread")
    if not page_id and not url:
        raise ValueError("thread: give 'page_id', 'url' or both")
    comments = data.get("comments", [])
    if not isinstance(comments, list):
        raise ValueError("'comments' must be a list")
    return ThreadBatch(
        SourceThread(
            page_id=page_id or None,
            url=url or None,
            title=_text(thread, "title", "thread") or "",
            line=line,
        ),
        tuple(_comment(item, index, line) for index, item in enumerate(comments)),
    )


def read_generic(chunks: Iterable[bytes]) -> Iterator[ThreadBatch]:
    header_seen = False
    for number, data in json_lines(chunks):
        if not header_seen:
            if not isinstance(data, dict) or data.get("format") != FORMAT:
                raise ImportFileError(
                    f'the first line must be the header {{"format": "{FORMAT}", "version": 1}}',
                    number,
                )
            if data.get("version") != VERSION:
                raise ImportFileError(
                    f"version {data.get('version')!r} of the format is not known here"
                    f" (this Rejoinder reads version {VERSION})",
                    number,
                )
            header_seen = True
            continue
        try:
            yield _thread(data, number)
        except ValueError as error:
            raise ImportFileError(str(error), number) from None
    if not header_seen:
        raise ImportFileError("the file is empty")
