"""Parse a plain-text "page dump" of a news article and its readers' comments."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

__all__ = ["DumpComment", "PageDump", "PageDumpError", "parse_page_dump"]


class PageDumpError(ValueError):
    """The text cannot be read as a page dump (for instance: it has no title)."""


@dataclass(frozen=True)
class DumpComment:
    """One reader's comment as shown in the dump."""

    author: str
    body: str
    number: int
    depth: int
    parent_index: int | None


@dataclass(frozen=True)
class PageDump:
    """An article and its comments, read from a page dump."""

    title: str
    dek: str
    body_markdown: str
    source_name: str | None
    comments: tuple[DumpComment, ...]


# "  2. Some Name says" -- the indentation decides the depth of the comment.
_HEADER_RE = re.compile(r"^(?P<indent>[ ]*)(?P<number>\d+)\.\s+(?P<author>.+?)\s+says:?\s*$")
# "Source: The Publication" ends the article body; it is not part of it.
_SOURCE_RE = re.compile(r"^\s*Source:\s*(?P<name>.*?)\s*$")
# Page furniture after the last comment: the reply form.
_END_RE = re.compile(
    r"^\s*(?:leave\s+a\s+reply(?:\s+to\s+.*)?|your\s+email\s+address\s+will\s+not\s+be\s+published\b.*)\s*$",
    re.IGNORECASE,
)
# An explicit Markdown block-quote line: ">" then an optional space.
_QUOTE_LINE_RE = re.compile(r"^>[ ]?")


@dataclass
class _Header:
    line_index: int
    indent: int
    number: int
    author: str


def parse_page_dump(text: str) -> PageDump:
    """Read a page dump: title, dek, article body, source, then numbered comments.

    The layout understood, line by line (after turning ``\\r\\n`` and ``\\r`` into ``\\n``,
    expanding tabs and normalising to Unicode NFC):

    * The first non-empty line is the title, the second non-empty line is the dek
      (standfirst). A dump whose first non-empty line is missing, or is a comment header,
      a ``Source:`` line or the reply-form marker, raises :class:`PageDumpError`. A dump
      with only a title has an empty dek.
    * The article body is everything after the dek up to the first ``Source: <name>`` line,
      the first comment header or the reply-form marker, whichever comes first. Paragraphs
      are separated by blank lines; lines inside a paragraph are kept (stripped of
      surrounding whitespace) and joined with ``\\n``. ``body_markdown`` joins paragraphs
      with one blank line. The text is not Markdown-escaped.
    * Block quotes. A paragraph whose lines all start with ``>`` is an explicit quote and is
      normalised to ``"> "`` lines. Dumps usually lose the quote markup, so a heuristic
      recovers it: a paragraph that directly follows an unquoted paragraph ending with ``:``
      (a lead-in such as "... an official said this:") is a quote, and each of its lines is
      prefixed with ``"> "``. Only that one paragraph is quoted; a quoted paragraph that
      itself ends with ``:`` does not make the next one a quote.
    * ``Source: <name>`` gives ``source_name`` (``None`` when there is no such line or the
      name is empty). Lines between it and the first comment header are ignored.
    * A comment starts at a header line ``<indent><n>. <author> says``. The header with the
      least indentation seen so far is top level; a header indented more than the one before
      it is a reply to the nearest preceding comment with less indentation. ``number`` is the
      number as shown (it counts among siblings); numbers are not checked for sequence.
    * A comment's body is the lines after its header up to the next header or the reply-form
      marker (a line "Leave a Reply" in any case, optionally "... to <name>", or a line
      starting "Your email address will not be published"); nothing after the marker is read.
      The body is dedented by its common indentation, each line's trailing whitespace is
      dropped, leading and trailing blank lines are removed, and runs of blank lines become
      one paragraph break ``"\\n\\n"``. Characters such as curly quotes are kept exactly. A
      header with no text under it gives a comment with an empty body.
    """
    lines = _normalise(text).split("\n")
    end = next((i for i, line in enumerate(lines) if _END_RE.match(line)), len(lines))
    lines = lines[:end]

    cursor = _skip_blank(lines, 0)
    if cursor >= len(lines):
        raise PageDumpError("page dump has no title: there is no text before the end of the page")
    first = lines[cursor]
    if _HEADER_RE.match(first) or _SOURCE_RE.match(first):
        raise PageDumpError(
            f"page dump has no title: line {cursor + 1} is not a title: {first.strip()!r}"
        )
    title = first.strip()
    cursor = _skip_blank(lines, cursor + 1)

    dek = ""
    if cursor < len(lines) and not (
        _HEADER_RE.match(lines[cursor]) or _SOURCE_RE.match(lines[cursor])
    ):
        dek = lines[cursor].strip()
        cursor += 1

    body_start = cursor
    body_end = comments_start = len(lines)
    source_name: str | None = None
    for i in range(body_start, len(lines)):
        if _HEADER_RE.match(lines[i]):
            body_end = comments_start = i
            break
        source = _SOURCE_RE.match(lines[i])
        if source is not None:
            source_name = source.group("name") or None
            body_end = i
            comments_start = next(
                (j for j in range(i + 1, len(lines)) if _HEADER_RE.match(lines[j])), len(lines)
            )
            break

    body_markdown = _render_body(_paragraphs([line.strip() for line in lines[body_start:body_end]]))
    comments = _parse_comments(lines, comments_start)
    return PageDump(
        title=title,
        dek=dek,
        body_markdown=body_markdown,
        source_name=source_name,
        comments=comments,
    )


def _normalise(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = text.removeprefix("\ufeff")
    text = "\n".join(line.expandtabs(8) for line in text.split("\n"))
    return unicodedata.normalize("NFC", text)


def _skip_blank(lines: list[str], start: int) -> int:
    while start < len(lines) and not lines[start].strip():
        start += 1
    return start


def _paragraphs(lines: list[str]) -> list[list[str]]:
    """Group lines into paragraphs separated by one or more blank lines."""
    paragraphs: list[list[str]] = []
    current: list[str] = []
    for line in lines:
        if line.strip():
            current.append(line)
        elif current:
            paragraphs.append(current)
            current = []
    if current:
        paragraphs.append(current)
    return paragraphs


def _render_body(paragraphs: list[list[str]]) -> str:
    rendered: list[str] = []
    previous_is_lead_in = False
    for paragraph in paragraphs:
        if all(line.startswith(">") for line in paragraph):
            quoted = [_QUOTE_LINE_RE.sub("", line) for line in paragraph]
            rendered.append("\n".join(_quote(line) for line in quoted))
            previous_is_lead_in = False
        elif previous_is_lead_in:
            rendered.append("\n".join(_quote(line) for line in paragraph))
            previous_is_lead_in = False
        else:
            rendered.append("\n".join(paragraph))
            previous_is_lead_in = paragraph[-1].rstrip().endswith(":")
    return "\n\n".join(rendered)


def _quote(line: str) -> str:
    return f"> {line}" if line else ">"


def _parse_comments(lines: list[str], start: int) -> tuple[DumpComment, ...]:
    headers: list[_Header] = []
    for i in range(start, len(lines)):
        match = _HEADER_RE.match(lines[i])
        if match is not None:
            headers.append(
                _Header(
                    line_index=i,
                    indent=len(match.group("indent")),
                    number=int(match.group("number")),
                    author=match.group("author").strip(),
                )
            )

    comments: list[DumpComment] = []
    # The open ancestors of the next comment: (indentation, index into ``comments``).
    stack: list[tuple[int, int]] = []
    for position, header in enumerate(headers):
        while stack and stack[-1][0] >= header.indent:
            stack.pop()
        parent_index = stack[-1][1] if stack else None
        body_end = headers[position + 1].line_index if position + 1 < len(headers) else len(lines)
        comments.append(
            DumpComment(
                author=header.author,
                body=_comment_body(lines[header.line_index + 1 : body_end]),
                number=header.number,
                depth=len(stack),
                parent_index=parent_index,
            )
        )
        stack.append((header.indent, len(comments) - 1))
    return tuple(comments)


def _comment_body(lines: list[str]) -> str:
    stripped = [line.rstrip() for line in lines]
    indents = [len(line) - len(line.lstrip(" ")) for line in stripped if line]
    margin = min(indents, default=0)
    dedented = [line[margin:] for line in stripped]
    return "\n\n".join("\n".join(p) for p in _paragraphs(dedented))
