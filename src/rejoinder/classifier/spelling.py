"""Undo common spelling evasions, keeping for every output character its place in the input."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Invisible characters used to split words ("id\u200biot"); soft hyphen and joiners too.
_INVISIBLE = frozenset(
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b\u200c\u200d\u200e\u200f"
    "\u202a\u202b\u202c\u202d\u202e\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069"
    "\u3164\ufeff\uffa0"
)

# Letters from other scripts that look like Latin ones (Cyrillic and Greek, lower case after
# casefolding). Kept small on purpose: the ones people actually type to dodge filters.
_HOMOGLYPHS = {
    "а": "a",
    "в": "b",
    "е": "e",
    "ё": "e",
    "к": "k",
    "м": "m",
    "н": "h",
    "о": "o",
    "р": "p",
    "с": "c",
    "т": "t",
    "у": "y",
    "х": "x",
    "і": "i",
    "ї": "i",
    "ј": "j",
    "ѕ": "s",
    "ԁ": "d",
    "ӏ": "l",
    "ɡ": "g",
    "ո": "n",
    "ս": "u",
    "α": "a",
    "β": "b",
    "ε": "e",
    "ι": "i",
    "κ": "k",
    "ν": "v",
    "ο": "o",
    "ρ": "p",
    "τ": "t",
    "υ": "u",
    "χ": "x",
    "ω": "w",
    "һ": "h",
    "ԛ": "q",
    "ԝ": "w",
    "ѡ": "w",
    "ү": "y",
    "ɩ": "i",
    "ı": "i",
}

# Digits and symbols standing for letters inside a word that also has real letters.
_LEET = {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i"}
_LEET_WORD = re.compile(r"[a-z0-9@$!|]+")
# Three or more single letters joined by one repeated separator: i.d.i.o.t, i d i o t, i-d-i-o-t.
_SPACED = re.compile(r"(?<![a-z0-9])[a-z](?:([.\-_*·,/ ])[a-z])(?:\1[a-z])+(?![a-z0-9])")
_RUN = re.compile(r"(.)\1{2,}")
_ASCII_SPACE = re.compile(r"[\x00-\x20\x7f]")


@dataclass(frozen=True)
class Normalised:
    """`text` is the normalised text; `origin[i]` is the input index its character i came from."""

    text: str
    origin: tuple[int, ...]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The input range that produced normalised characters [start, end)."""
        if end <= start:
            raise ValueError("empty span")
        return self.origin[start], self.origin[end - 1] + 1


def _fold(ch: str) -> str:
    if ch in _INVISIBLE or unicodedata.category(ch) == "Cf":
        return ""
    out = []
    for c in unicodedata.normalize("NFKD", ch.casefold()):
        if unicodedata.combining(c):
            continue
        out.append(_HOMOGLYPHS.get(c, c))
    folded = "".join(out)
    return " " if folded.isspace() else folded


def normalise(text: str) -> Normalised:
    """Casefold, strip accents and invisible characters, map homoglyphs and leetspeak, join
    spaced-out letters and squeeze letters repeated three or more times."""
    origin: list[int]
    if text.isascii():  # the common case: nothing to fold but case and control characters
        s = _ASCII_SPACE.sub(" ", text.lower())
        origin = list(range(len(s)))
    else:
        chars: list[str] = []
        origin = []
        for i, ch in enumerate(text):
            for c in _fold(ch):
                chars.append(c)
                origin.append(i)
        s = "".join(chars)

    if any(c in _LEET for c in s):
        out = list(s)
        for m in _LEET_WORD.finditer(s):
            word = m.group()
            if any(c.isalpha() for c in word) and any(c in _LEET for c in word):
                stripped = word.rstrip("!")  # "idiot!!!" keeps its exclamation marks
                for k, c in enumerate(stripped):
                    out[m.start() + k] = _LEET.get(c, c)
        s = "".join(out)

    keep = [True] * len(s)
    for m in _SPACED.finditer(s):
        for k in range(m.start() + 1, m.end(), 2):
            keep[k] = False
    for m in _RUN.finditer(s):
        for k in range(m.start() + 1, m.end()):
            keep[k] = False
    if not all(keep):
        s = "".join(c for c, k in zip(s, keep, strict=True) if k)
        origin = [o for o, k in zip(origin, keep, strict=True) if k]
    return Normalised(s, tuple(origin))
