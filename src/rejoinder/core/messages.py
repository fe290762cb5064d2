"""Words for people as a template and its values, so that the web can say them in the reader's
language while the core stays pure: it marks its English with `N_` and `Nn_` (which the
catalogue extraction finds, see `scripts/i18n`) and never translates anything itself.

`str(message)` is the English sentence, exactly as the template reads with the values put in;
`rejoinder.web.i18n` renders the same message from the catalogue of another language.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType


@dataclass(frozen=True, slots=True)
class Message:
    """An English template (Python's `str.format` syntax) and the values it names.

    A value is a word or a number, another message, or a tuple of messages (said one after
    the other, separated by "; "). A message without values is plain text, never formatted,
    so braces in it are just braces. With `plural`, the template is the singular and `count`
    names the value that picks the form, as gettext's ngettext does.
    """

    template: str
    values: Mapping[str, object] = field(default_factory=lambda: MappingProxyType({}))
    plural: str | None = None
    count: str = "n"

    def form(self) -> str:
        """The English template for these values (the plural one when the count is not 1)."""
        if self.plural is not None and self.values.get(self.count) != 1:
            return self.plural
        return self.template

    def __hash__(self) -> int:  # the values are a mapping, which has no hash of its own
        return hash((self.template, str(self)))

    def __str__(self) -> str:
        if not self.values:
            return self.template
        return self.form().format(**{k: english(v) for k, v in self.values.items()})


def english(value: object) -> object:
    """A value as the English sentence shows it (numbers stay numbers for their format)."""
    if isinstance(value, Message):
        return str(value)
    if isinstance(value, tuple):
        return "; ".join(str(english(v)) for v in value)
    return value


def N_(template: str, /, **values: object) -> Message:
    """A message to be translated later; `scripts/i18n extract` collects the template."""
    return Message(template, MappingProxyType(values))


def Nn_(singular: str, plural: str, n: int, /, **values: object) -> Message:
    """A message with a singular and a plural form, chosen by `n` (also `{n}` in them)."""
    return Message(singular, MappingProxyType({"n": n, **values}), plural=plural)


def as_message(text: str | Message) -> Message:
    """A message from either: plain text is its own template (and may be in the catalogue)."""
    return text if isinstance(text, Message) else Message(text)
