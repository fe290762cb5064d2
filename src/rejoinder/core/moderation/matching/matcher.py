"""The grammar's lines as matchers over a sentence's keys, word by word.

grammar.py compiles a line of tokens into a tree of these nodes, each list and rule once
(a rule used by fifty patterns is one node, shared). Asked where it can end when it starts
at a word, a node answers with a list of word positions in its order of preference; a line
tries its first token's ends in that order, and for each the rest of the line, so the first
end of a whole pattern is the match a backtracking regular expression would find. Each
answer is kept for the sentence, so a node is worked out at most once per word however many
patterns share it, and nothing is compiled before use: a word list costs one lookup a word.

The order of preference:

* a word list (or a literal phrase) tries its longest phrase first; a noun list also takes
  a plural "s" or "es" on the phrase's last word;
* a rule tries its lines in the order the file gives them; a group ``(a|b_c)`` tries its
  alternatives' matches longest first;
* an optional token tries to match before it skips; ``...`` takes as few words as it can,
  or as many as it can when it ends the line; ``NAME`` two words before one.

A position is a word index; the separator before word ``w`` (the sentence's start or a
comma), where a line that begins with ``^`` may start, is ``-(w + 1)``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import TypeAlias

from rejoinder.core.moderation.matching.sentences import Sentence

Trie: TypeAlias = dict[str, "Trie"]
_END = ""  # a trie node's key that marks the end of a phrase
_WORD = re.compile(r"[A-Za-z0-9*]+")
_NAME = re.compile(r"[A-Z][a-z]+")
_AGENT = re.compile(r"[a-z]{2,}(?:ers|ists|ians)", re.IGNORECASE)
_NONE: list[int] = []


class Node:
    """One token of a line, or a line, or a choice of lines."""

    __slots__ = ("_first_keys",)

    def ends(self, s: Sentence, at: int) -> list[int]:
        """Where a match that starts at ``at`` can end, in order of preference."""
        raise NotImplementedError

    def may_open_at_separator(self) -> bool:
        """Whether a match can begin with ``^`` (so it is tried at separators too)."""
        return False

    def nullable(self) -> bool:
        """Whether the node can match no word at all."""
        return False

    def firsts(self) -> frozenset[str] | None:
        """The keys (lowercase) a match can begin with; None when it can begin with any."""
        return None

    def first_keys(self) -> frozenset[str] | None:
        """The keys every match begins with, worked out once: `firsts`, or None for a node
        that can match no word at all (it may match anywhere)."""
        try:
            return self._first_keys
        except AttributeError:
            keys = None if self.nullable() else self.firsts()
            self._first_keys: frozenset[str] | None = keys
            return keys


class Phrases(Node):
    """Any phrase of a word list, as a trie of keys."""

    __slots__ = ("plural", "trie")

    def __init__(self, phrases: Iterable[Sequence[str]], *, plural: bool = False) -> None:
        self.trie: Trie = {}
        self.plural = plural
        for phrase in phrases:
            if not phrase:
                continue
            node = self.trie
            for key in phrase:
                node = node.setdefault(key, {})
            node[_END] = {}

    def firsts(self) -> frozenset[str] | None:
        keys = set(self.trie)
        if self.plural:
            singles = [key for key, child in self.trie.items() if _END in child]
            keys |= {key + end for key in singles for end in ("s", "es")}
        return frozenset(keys)

    def ends(self, s: Sentence, at: int) -> list[int]:
        words = s.lower
        if at < 0 or at >= len(words):
            return _NONE
        node = self.trie.get(words[at])
        if node is None and not self.plural:
            return _NONE
        memo = s.memo
        found = memo.get((self, at))
        if found is None:
            found = memo[(self, at)] = self._ends(words, at)
        return found  # type: ignore[return-value]

    def _ends(self, words: tuple[str, ...], at: int) -> list[int]:
        out: list[int] = []
        node: Trie = self.trie
        for index in range(at, len(words)):
            word = words[index]
            child = node.get(word)
            if (child is not None and _END in child) or (self.plural and _plural_ends(node, word)):
                out.append(index + 1)
            if child is None:
                break
            node = child
        out.reverse()
        return out


def _plural_ends(node: Trie, word: str) -> bool:
    """Whether a phrase ends at ``word`` with a plural ending ("rats", "witches")."""
    for cut in (1, 2):
        if len(word) > cut and word.endswith("es"[-cut:]):
            child = node.get(word[:-cut])
            if child is not None and _END in child:
                return True
    return False


def _cannot_start(node: Node, s: Sentence, at: int) -> bool:
    """Whether ``node`` surely has no match at word ``at``: it must begin with a word of its
    `firsts` and that word is not there (a quick test before the work of trying)."""
    keys = node.first_keys()
    return keys is not None and at >= 0 and (at >= len(s.lower) or s.lower[at] not in keys)


class Line(Node):
    """Tokens one after the other."""

    __slots__ = ("items",)

    def __init__(self, items: Sequence[Node]) -> None:
        self.items = tuple(items)

    def ends(self, s: Sentence, at: int) -> list[int]:
        return self._ends_from(0, s, at)

    def _ends_from(self, index: int, s: Sentence, at: int) -> list[int]:
        items = self.items
        first = items[index].ends(s, at)
        if not first:
            return _NONE
        if index == len(items) - 1:
            return first
        memo = s.memo
        key = (self, index, at)
        found = memo.get(key)
        if found is not None:
            return found  # type: ignore[return-value]
        out: list[int] = []
        following = index + 1
        for middle in first:
            for end in self._ends_from(following, s, middle):
                if end not in out:
                    out.append(end)
        memo[key] = out
        return out

    def may_open_at_separator(self) -> bool:
        for item in self.items:
            if item.may_open_at_separator():
                return True
            if not item.nullable():
                return False
        return False

    def nullable(self) -> bool:
        return all(item.nullable() for item in self.items)

    def firsts(self) -> frozenset[str] | None:
        found: set[str] = set()
        for item in self.items:
            keys = item.firsts()
            if keys is None:
                return None
            found |= keys
            if not item.nullable():
                return frozenset(found)
        return None


class Rule(Node):
    """A rule's lines, tried in the file's order."""

    __slots__ = ("lines",)

    def __init__(self, lines: Sequence[Node] = ()) -> None:
        self.lines = tuple(lines)

    def ends(self, s: Sentence, at: int) -> list[int]:
        if _cannot_start(self, s, at):
            return _NONE
        memo = s.memo
        found = memo.get((self, at))
        if found is None:
            found = memo[(self, at)] = self._ends(s, at)
        return found  # type: ignore[return-value]

    def _ends(self, s: Sentence, at: int) -> list[int]:
        out: list[int] = []
        for line in self.lines:
            if _cannot_start(line, s, at):
                continue
            for end in line.ends(s, at):
                if end not in out:
                    out.append(end)
        return out

    def may_open_at_separator(self) -> bool:
        return any(line.may_open_at_separator() for line in self.lines)

    def nullable(self) -> bool:
        return any(line.nullable() for line in self.lines)

    def firsts(self) -> frozenset[str] | None:
        found: set[str] = set()
        for line in self.lines:
            keys = line.firsts()
            if keys is None:
                return None
            found |= keys
        return frozenset(found)


class Longest(Rule):
    """A group's alternatives, the longest match first."""

    __slots__ = ()

    def _ends(self, s: Sentence, at: int) -> list[int]:
        lines = [line for line in self.lines if not _cannot_start(line, s, at)]
        return sorted({end for line in lines for end in line.ends(s, at)}, reverse=True)


class Optional(Node):
    __slots__ = ("node",)

    def __init__(self, node: Node) -> None:
        self.node = node

    def ends(self, s: Sentence, at: int) -> list[int]:
        found = self.node.ends(s, at)
        return [*found, at] if at not in found else found

    def may_open_at_separator(self) -> bool:
        return self.node.may_open_at_separator()

    def nullable(self) -> bool:
        return True

    def firsts(self) -> frozenset[str] | None:
        return self.node.firsts()


class Words(Node):
    """``...``: up to six words, as few as possible, or as many when it ends the line."""

    __slots__ = ("greedy",)

    def __init__(self, *, greedy: bool) -> None:
        self.greedy = greedy

    def ends(self, s: Sentence, at: int) -> list[int]:
        if at < 0:
            return [at]
        most = 0
        keys = s.keys
        while most < 6 and at + most < len(keys) and _WORD.fullmatch(keys[at + most]):
            most += 1
        counts = range(most, -1, -1) if self.greedy else range(most + 1)
        return [at + count for count in counts]

    def nullable(self) -> bool:
        return True


class Word(Node):
    """``WORD``: any one word; ``ADJ`` (with ``stops``): any but a function word."""

    __slots__ = ("stops",)

    def __init__(self, stops: frozenset[str] = frozenset()) -> None:
        self.stops = stops

    def ends(self, s: Sentence, at: int) -> list[int]:
        if 0 <= at < len(s.keys) and _WORD.fullmatch(s.keys[at]) and s.lower[at] not in self.stops:
            return [at + 1]
        return _NONE


class Agent(Node):
    """``AGENT``: a plural for people by what they do ("marchers", "cyclists")."""

    __slots__ = ("stops",)

    def __init__(self, stops: frozenset[str]) -> None:
        self.stops = stops

    def ends(self, s: Sentence, at: int) -> list[int]:
        if 0 <= at < len(s.keys) and _AGENT.fullmatch(s.keys[at]) and s.lower[at] not in self.stops:
            return [at + 1]
        return _NONE


class Name(Node):
    """``NAME``: one or two capitalised words, not on the stop list, not parted by a comma."""

    __slots__ = ("stops",)

    def __init__(self, stops: frozenset[str]) -> None:
        self.stops = stops

    def _is_name(self, s: Sentence, at: int) -> bool:
        key = s.keys[at]
        return bool(_NAME.fullmatch(key)) and key not in self.stops

    def ends(self, s: Sentence, at: int) -> list[int]:
        if at < 0 or at >= len(s.keys) or not self._is_name(s, at):
            return _NONE
        if at + 1 < len(s.keys) and not s.comma[at + 1] and self._is_name(s, at + 1):
            return [at + 2, at + 1]
        return [at + 1]


class Start(Node):
    """``^``: the start of a clause (the sentence's, or after a comma); ``^,`` only the
    latter. Matches only where a match begins, at a separator."""

    __slots__ = ("comma_only",)

    def __init__(self, *, comma_only: bool) -> None:
        self.comma_only = comma_only

    def ends(self, s: Sentence, at: int) -> list[int]:
        if at >= 0 or (self.comma_only and at == -1):
            return _NONE
        return [-at - 1]

    def may_open_at_separator(self) -> bool:
        return True

    def nullable(self) -> bool:
        return True

    def firsts(self) -> frozenset[str] | None:
        return frozenset()


class End(Node):
    """``$``: the end of the sentence; ``,`` (``clause``): a comma or the end."""

    __slots__ = ("clause",)

    def __init__(self, *, clause: bool) -> None:
        self.clause = clause

    def ends(self, s: Sentence, at: int) -> list[int]:
        if at >= 0 and (at == len(s.keys) or (self.clause and s.comma[at])):
            return [at]
        return _NONE

    def nullable(self) -> bool:
        return True

    def firsts(self) -> frozenset[str] | None:
        return frozenset()


def finditer(
    node: Node,
    s: Sentence,
    lo: int = 0,
    hi: int | None = None,
    *,
    separators: bool = False,
    firsts: frozenset[str] | None = None,
) -> list[tuple[int, int, int, int]]:
    """Each match of ``node`` in the words ``lo`` to ``hi`` of the sentence, left to right
    and not overlapping, as (first word, end word, start, end) with the start and end in
    ``s.text``. With ``separators``, a match may also begin at the sentence's start or at a
    comma (before ``^``); its start is then that separator's. With ``firsts`` (the node's),
    words no match can begin with are skipped."""
    hi = len(s.keys) if hi is None else hi
    starts, stops, lower = s.key_starts, s.ends, s.lower
    found: list[tuple[int, int, int, int]] = []
    resume = -1
    words: Iterable[int] = range(lo, hi)
    if firsts is not None and not separators:  # only the words a match can begin with
        positions = s.positions
        words = sorted(p for key in firsts & s.words for p in positions[key] if lo <= p < hi)
    for word in words:
        candidates: list[tuple[int, int]] = []
        if separators and (word == 0 or s.comma[word]):
            candidates.append((starts[word] - 2 if word else 0, -word - 1))
        if firsts is None or lower[word] in firsts:
            candidates.append((starts[word], word))
        for start, at in candidates:
            if start < resume:
                continue
            end = next((e for e in node.ends(s, at) if e <= hi), None)
            if end is None:
                continue
            if end > word:
                stop = stops[end - 1]
            elif at < 0 and end == word:
                stop = start + 1  # only the separator
            else:
                continue  # an empty match
            found.append((word, end, start, stop))
            resume = stop
            break
    return found


def search(node: Node, s: Sentence, lo: int = 0, hi: int | None = None) -> bool:
    """Whether ``node`` matches anywhere in the words ``lo`` to ``hi``."""
    hi = len(s.keys) if hi is None else hi
    firsts = node.first_keys()
    lower = s.lower
    for word in range(lo, hi):
        if firsts is not None and lower[word] not in firsts:
            continue
        end = next((e for e in node.ends(s, word) if e <= hi), None)
        if end is not None and end > word:
            return True
    return False
