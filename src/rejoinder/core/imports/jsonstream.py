"""One JSON document read as a stream: the members of its top-level object in file order,
and the elements of the arrays asked for one at a time, so a document of any size is read
in memory bounded by its largest element (`json.JSONDecoder.raw_decode` over a buffer
refilled from the chunks).

Commento's and Comentario's exports are such documents: `{"version": 1, "comments":
[...], "commenters": [...]}`.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Collection, Iterable, Iterator
from typing import Any

from rejoinder.core.imports.records import ImportFileError

ELEMENT_MAX = 16 << 20  # characters: no comment, page or commenter is near this
_DECODER = json.JSONDecoder()
_SPACE = " \t\n\r"
_CUT_MAX = 64  # characters from the buffer's end: a word or number cut by a chunk


class _Reader:
    def __init__(self, chunks: Iterable[bytes]) -> None:
        self.chunks = iter(chunks)
        self.decode = codecs.getincrementaldecoder("utf-8")()
        self.buffer = ""
        self.pos = 0
        self.eof = False
        self.bytes_read = 0
        self.lines_before = 0  # newlines in the text dropped from the buffer
        self.started = False

    def line(self, pos: int | None = None) -> int:
        at = self.pos if pos is None else pos
        return self.lines_before + self.buffer.count("\n", 0, at) + 1

    def fill(self) -> bool:
        """More text at the buffer's end; False at the end of the file."""
        if self.eof:
            return False
        for chunk in self.chunks:
            try:
                text = self.decode.decode(chunk)
            except UnicodeDecodeError as error:
                raise ImportFileError(
                    f"not UTF-8 (byte {self.bytes_read + error.start + 1} of the file)",
                    self.line(len(self.buffer)),
                ) from None
            self.bytes_read += len(chunk)
            if not self.started and text:
                self.started = True
                text = text.removeprefix("\ufeff")
            if text:
                self.lines_before += self.buffer.count("\n", 0, self.pos)
                self.buffer = self.buffer[self.pos :] + text
                self.pos = 0
                return True
        try:
            tail = self.decode.decode(b"", final=True)
        except UnicodeDecodeError:
            raise ImportFileError("not UTF-8 (the file ends inside a character)") from None
        self.eof = True
        if tail:
            self.buffer = self.buffer[self.pos :] + tail
            self.pos = 0
            return True
        return False

    def peek(self) -> str:
        """The next character that is not white space ("" at the end of the file)."""
        while True:
            buffer, pos = self.buffer, self.pos
            while pos < len(buffer) and buffer[pos] in _SPACE:
                pos += 1
            self.pos = pos
            if pos < len(buffer):
                return buffer[pos]
            if not self.fill():
                return ""

    def expect(self, chars: str, what: str) -> str:
        found = self.peek()
        if not found:
            raise ImportFileError(
                f"not JSON: the file ends early, where {what} (truncated?)",
                self.line(len(self.buffer)),
            )
        if found not in chars:
            raise ImportFileError(f"not JSON: {found!r} where {what}", self.line())
        self.pos += 1
        return found

    def value(self) -> Any:
        self.peek()
        while True:
            try:
                value, end = _DECODER.raw_decode(self.buffer, self.pos)
            except json.JSONDecodeError as error:
                # An error near the buffer's end may only be where the chunk was cut (in a
                # string, a number, a word): read on and try again.
                unterminated = error.msg.startswith("Unterminated")
                near_end = unterminated or len(self.buffer) - error.pos < _CUT_MAX
                small = len(self.buffer) - self.pos <= ELEMENT_MAX
                if near_end and small and self.fill():
                    continue
                ends = self.eof and (unterminated or error.pos >= len(self.buffer))
                cut = ": the file ends early (truncated?)" if ends else ""
                raise ImportFileError(
                    f"not JSON ({error.msg}){cut}", self.line(error.pos)
                ) from None
            if end == len(self.buffer) and self.fill():
                continue  # a number or a word may go on in the next chunk
            self.pos = end
            return value


def members(
    chunks: Iterable[bytes], streamed: Collection[str]
) -> Iterator[tuple[str, int | None, Any]]:
    """(name, None, value) for each member of the top-level object, but (name, index,
    element) for each element of a member in `streamed` whose value is an array. A document
    that is not an object, or is broken, raises ImportFileError with the line."""
    reader = _Reader(chunks)
    if not reader.peek():
        raise ImportFileError("the file is empty")
    reader.expect("{", "the document's object should start")
    if reader.peek() == "}":
        reader.pos += 1
    else:
        while True:
            name = reader.value()
            if not isinstance(name, str):
                raise ImportFileError("not JSON: a member's name is not a string", reader.line())
            reader.expect(":", "':' should follow a member's name")
            if name in streamed and reader.peek() == "[":
                reader.pos += 1
                index = 0
                if reader.peek() == "]":
                    reader.pos += 1
                else:
                    while True:
                        yield name, index, reader.value()
                        index += 1
                        if (
                            reader.expect(",]", f"',' or ']' should follow {name}[{index - 1}]")
                            == "]"
                        ):
                            break
            else:
                yield name, None, reader.value()
            if reader.expect(",}", "',' or '}' should follow a member") == "}":
                break
    if reader.peek():
        raise ImportFileError("not JSON: more follows the document's end", reader.line())
