"""XML read as a stream through defusedxml's parser: entity declarations (billion laughs,
external entities) and external references are refused; each element's start and end go to
a handler with the line it starts on, and nothing of the tree is kept, so memory stays
bounded whatever the file's size."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException, EntitiesForbidden, ExternalReferenceForbidden
from defusedxml.ElementTree import DefusedXMLParser

from rejoinder.core.imports.records import ImportFileError


class Handler(Protocol):
    def start(self, tag: str, attrs: dict[str, str], line: int) -> None: ...

    def end(self, tag: str, text: str) -> None: ...


class _Target:
    """The parser's target: text is gathered for the innermost open element only."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.parser: Any = None
        self.text: list[str] = []

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        self.text = []
        self.handler.start(tag, attrs, self.parser.CurrentLineNumber)

    def data(self, data: str) -> None:
        self.text.append(data)

    def end(self, tag: str) -> None:
        text = "".join(self.text)
        self.text = []
        self.handler.end(tag, text)

    def close(self) -> None:
        return None


def _line(error: ParseError) -> int | None:
    position = getattr(error, "position", None)
    return position[0] if position else None


def _explain(error: ParseError, at_end: bool) -> str:
    message = str(error).split(": line ")[0]
    if at_end:
        return f"the file ends early, inside an element (truncated?): {message}"
    if message.startswith("not well-formed (invalid token)"):
        return (
            "not well-formed XML (invalid token): a byte that is not valid in the file's"
            " encoding, or a stray character"
        )
    return f"not well-formed XML: {message}"


def feed(chunks: Iterable[bytes], handler: Handler) -> Iterable[None]:
    """Parse `chunks`, yielding after each chunk so the caller can take what the handler
    made; a refused or broken file raises ImportFileError with its line."""
    target = _Target(handler)
    parser = DefusedXMLParser(target=target, forbid_dtd=False)
    target.parser = parser.parser
    at_end = False
    try:
        for chunk in chunks:
            parser.feed(chunk)
            yield None
        at_end = True
        parser.close()
        yield None
    except EntitiesForbidden as error:
        raise ImportFileError(
            f"the file declares the entity {error.name!r}; entities are refused (they can"
            " expand without bound or read other files)",
            target.parser.CurrentLineNumber,
        ) from None
    except ExternalReferenceForbidden as error:
        raise ImportFileError(
            f"the file refers to an external resource ({error.sysid or error.pubid});"
            " external references are refused",
            target.parser.CurrentLineNumber,
        ) from None
    except DefusedXmlException as error:
        raise ImportFileError(f"refused: {error}", target.parser.CurrentLineNumber) from None
    except ParseError as error:
        raise ImportFileError(_explain(error, at_end), _line(error)) from None
