"""The grammar of the phrasebooks (``data/threats.json``, ``insults.json``, ``identity.json``),
compiled into matchers over a sentence's keys (sentences.py makes the keys, matcher.py
matches).

A grammar file names word lists, verbs with their forms and rules; a rule is a list of
alternatives, an alternative a line of tokens:

* ``{name}`` a list or a rule; ``{name?}`` the same, optional. A verb class ``violence``
  gives ``{violence.base}``, ``{violence.third}``, ``{violence.past}``, ``{violence.part}``
  and ``{violence.ing}``; a list named in ``nouns`` also takes a plural "s" or "es";
* ``(a|b_c|d_{rule})`` one of a few alternatives (``_`` for a space), the longest match
  first;
* ``NAME`` a capitalised word (or two) that is not on the ``name_stopwords`` list;
  ``AGENT`` a plural in -ers, -ists or -ians not on ``agent_stopwords`` ("marchers");
* ``WORD`` any one word; ``ADJ`` any word but a function word; both may take ``?``;
* ``...`` up to six words;
* ``^`` the start of a clause (of the sentence, or after a comma), ``^,`` only after a
  comma (first); ``$`` the end of the sentence, ``,`` the end of a clause (a comma or the
  end of the sentence) — both last;
* anything else is a literal phrase; ``word?`` an optional one.

Words are compared as keys, so case, doubled vowels and apostrophes do not matter, and a
comma between two words does not part them (only ``^``, ``^,`` and ``,`` look at commas).
Rules refer to lists and to other rules, never to themselves. This is the one description
of the language: the data files point here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache, cached_property
from typing import Any

from rejoinder.core.moderation.matching import matcher
from rejoinder.core.moderation.matching.matcher import Node
from rejoinder.core.moderation.matching.sentences import Sentence, keys

_FORMS = ("third", "past", "part", "ing")
_FUNCTION_WORDS = (
    "with without for at in on of to from by about into onto over under and or but nor so than "
    "then the a an this that these those it its time times money way day week year me my i we "
    "us you he she they them him her his their our your is are was were be been am as if up "
    "down out off like just not no all some any more most less one two when while where who "
    "which what how why because there here"
)
_COMMON = frozenset(
    (
        _FUNCTION_WORDS + " will wil shall would could can must need needs have has had get got "
        "go going gona want like make made do does did il ll d s re ve m im id youre theyre hes "
        "shes its were well dont cant wont should shud ought let lets us ll nt ca wo t"
    ).split()
)
_SPECIAL = frozenset(("^", "^,", "$", ",", "...", "NAME", "WORD", "ADJ", "AGENT"))
_WORD = matcher.Word()
NEVER = matcher.Rule()  # a node with no line: it matches nothing


@dataclass(frozen=True, eq=False)
class Pattern:
    """One pattern of a phrasebook: its line compiled, and what the phrasebook must check
    around a match."""

    code: str
    line: Node
    source: str
    id: str = ""  # the entry's "id" ("threat.find-and-hurt"), or "<code>-<n>" without one
    guarded: bool = True  # drop matches in reported speech, news or after a negative
    person: bool = False  # a person must be named before the match in the sentence
    no_negation: bool = False  # the match itself must not hold a negation
    imperative: bool = False  # a capitalised verb in mid-sentence is a name, not a command
    triggers: frozenset[str] | None = None  # one of these keys must be in the sentence
    #: the same for every required token of the line (``triggers`` is the rarest of them):
    #: a sentence must hold a key of each, or the pattern cannot match it
    requires: tuple[frozenset[str], ...] = ()
    #: the same key sets in the order of the line's tokens: a match holds a key of each at
    #: word positions in that order ("{subject} {modal} {harm}" cannot match a sentence
    #: whose only harm word comes before its only modal)
    order: tuple[frozenset[str], ...] = ()

    @cached_property
    def opens_at_separator(self) -> bool:
        return self.line.may_open_at_separator()

    def may_match(self, words: frozenset[str]) -> bool:
        if self.triggers is not None and self.triggers.isdisjoint(words):
            return False
        return all(not required.isdisjoint(words) for required in self.requires)

    def in_order(self, sentence: Sentence) -> bool:
        """Whether the sentence holds a key of each required token in the line's order (the
        earliest such key each time, which finds an ordering if there is one)."""
        if len(self.order) < 2:
            return True
        positions = sentence.positions
        at = -1
        for required in self.order:
            found = [p for k in required & sentence.words for p in positions[k] if p > at]
            if not found:
                return False
            at = min(found)
        return True

    def finditer(self, sentence: Sentence) -> list[tuple[int, int, int, int]]:
        """The pattern's matches in the sentence (see `matcher.finditer`)."""
        return matcher.finditer(
            self.line,
            sentence,
            separators=self.opens_at_separator,
            firsts=self.line.first_keys(),
        )


class Grammar:
    """The lists, verbs and rules of one grammar file, each compiled once, when first used."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self._lists: Mapping[str, Sequence[str]] = data.get("words", {})
        self._nouns = frozenset(data.get("nouns", ()))
        self._verbs: Mapping[str, Mapping[str, str]] = data.get("verbs", {})
        self._rules: Mapping[str, Sequence[str]] = data.get("rules", {})
        self._nodes: dict[str, Node] = {}  # by list or rule name
        self._groups: dict[str, Node] = {}  # by token: literals and groups
        self._triggers: dict[str, frozenset[str] | None] = {}

    def built(self) -> int:
        """How many lists, rules, literals and groups have been compiled so far."""
        return len(self._nodes) + len(self._groups)

    def knows(self, name: str) -> bool:
        """Whether ``name`` is a list or a rule of this grammar."""
        return name in self._lists or name in self._rules

    @cached_property
    def vocabulary(self) -> frozenset[str]:
        """Every key the grammar's lists, verbs and rules use (to restore starred vowels)."""
        found: set[str] = set()
        for phrases in self._lists.values():
            for phrase in phrases:
                found.update(keys(phrase))
        for verbs in self._verbs.values():
            for base, forms in verbs.items():
                found.update(keys(base + " " + forms.replace("|", " ")))
        for lines in self._rules.values():
            for line in lines:
                found.update(keys(re.sub(r"\{[^}]*\}|[()|_?^$,]|\.\.\.|NAME|WORD|ADJ", " ", line)))
        return frozenset(found | _COMMON)

    def rule(self, name: str, _seen: tuple[str, ...] = ()) -> Node:
        """The matcher of a list, a verb form or a rule."""
        node = self._nodes.get(name)
        if node is not None:
            return node
        if name in _seen:
            raise ValueError(f"the rule {name!r} refers to itself")
        if name in self._lists:
            node = _phrases(self._lists[name], plural=name in self._nouns)
        elif "." in name and name.split(".")[0] in self._verbs:
            node = _phrases(self._verb_forms(*name.split(".", 1)))
        elif name in self._rules:
            seen = (*_seen, name)
            node = matcher.Rule([self.sequence(line, seen) for line in self._rules[name]])
        else:
            raise ValueError(f"unknown rule or list {name!r}")
        self._nodes[name] = node
        return node

    def _verb_forms(self, verb_class: str, form: str) -> list[str]:
        phrases: list[str] = []
        for base, forms in self._verbs[verb_class].items():
            others = dict(zip(_FORMS, forms.split("|"), strict=True))
            if form == "base":
                phrases.append(base)
            elif form == "any":
                phrases.extend([base, *others.values()])
            else:
                phrases.append(others[form])
        return phrases

    def _stops(self, name: str) -> frozenset[str]:
        return frozenset(k for w in self._lists.get(name, ()) for k in keys(w))

    @cached_property
    def _name(self) -> Node:
        return matcher.Name(frozenset(k.capitalize() for k in self._stops("name_stopwords")))

    @cached_property
    def _agent(self) -> Node:
        return matcher.Agent(self._stops("agent_stopwords"))

    def sequence(self, line: str, _seen: tuple[str, ...] = ()) -> Node:
        """The matcher of one line of tokens."""
        tokens = _tokens(line)
        items: list[Node] = []
        for index, token in enumerate(tokens):
            last = index == len(tokens) - 1
            if token in ("^", "^,"):
                if index:
                    raise ValueError(f"{token} must come first: {line!r}")
                items.append(matcher.Start(comma_only=token == "^,"))
            elif token in ("$", ","):
                if not last:
                    raise ValueError(f"{token} must come last: {line!r}")
                items.append(matcher.End(clause=token == ","))
            elif token == "...":
                items.append(matcher.Words(greedy=last))
            elif token.endswith("?") and len(token) > 1:
                items.append(matcher.Optional(self._token(token[:-1], _seen)))
            else:
                items.append(self._token(token, _seen))
        return items[0] if len(items) == 1 else matcher.Line(items)

    def _token(self, token: str, seen: tuple[str, ...]) -> Node:
        if token.startswith("{") and token.endswith("}"):
            return self.rule(token[1:-1], seen)
        node = self._groups.get(token)  # a literal or a group, met before
        if node is not None:
            return node
        if token.startswith("(") and token.endswith(")"):
            options = dict.fromkeys(_spaced(p) for p in _split(token[1:-1]))
            node = matcher.Longest([self.sequence(option, seen) for option in options])
        else:
            node = self._special(token)
        self._groups[token] = node
        return node

    def _special(self, token: str) -> Node:
        if token == "NAME":
            return self._name
        if token == "AGENT":
            return self._agent
        if token == "WORD":
            return _WORD
        if token == "ADJ":
            return _ADJECTIVE
        return _phrases([token.replace("_", " ")])

    def compile(self, code: str, entry: str | Mapping[str, Any], default_id: str = "") -> Pattern:
        """One pattern of the file: a line, or ``{"id": id, "seq": line, ...flags}``."""
        flags: Mapping[str, Any] = {} if isinstance(entry, str) else entry
        line = entry if isinstance(entry, str) else str(entry["seq"])
        required = self._required(line, ())
        return Pattern(
            code,
            self.sequence(line),
            line,
            id=str(flags.get("id") or default_id),
            guarded=bool(flags.get("guarded", True)),
            person=bool(flags.get("person", False)),
            no_negation=bool(flags.get("no_negation", False)),
            imperative=bool(flags.get("imperative", False)),
            triggers=_rarest_set(required),
            requires=tuple(sorted(set(required), key=_cost)),
            order=tuple(required),
        )

    def triggers(self, line: str, _seen: tuple[str, ...] = ()) -> frozenset[str] | None:
        """Keys of which every match of ``line`` holds one (None: no such set is known).

        Of the line's required tokens, the one whose words are rarest is chosen; a
        sentence with none of its keys is not searched at all, which is most sentences.
        """
        return _rarest_set(self._required(line, _seen))

    def _required(self, line: str, seen: tuple[str, ...]) -> list[frozenset[str]]:
        found = []
        for token in _tokens(line):
            special = token in _SPECIAL
            if special or token.endswith("?"):
                continue
            keys = self._token_triggers(token, seen)
            if keys is not None:
                found.append(keys)
        return found

    def _token_triggers(self, token: str, seen: tuple[str, ...]) -> frozenset[str] | None:
        if not token.startswith("{"):  # a group or a literal
            if token not in self._triggers:
                if token.startswith("(") and token.endswith(")"):
                    options = _split(token[1:-1])
                    found = _union(self.triggers(_spaced(p), seen) for p in options)
                else:
                    found = _union([_rarest(token.replace("_", " "))])
                self._triggers[token] = found
            return self._triggers[token]
        name = token[1:-1]
        if name in self._lists:
            if token not in self._triggers:
                found = _union(_rarest(p) for p in self._lists[name])
                if name in self._nouns and found is not None:
                    # a noun list also matches plurals and possessives ("rats", "rat's")
                    found = found | {k + end for k in found for end in ("s", "es")}
                self._triggers[token] = found
            return self._triggers[token]
        if "." in name and name.split(".")[0] in self._verbs:
            if token not in self._triggers:
                forms = self._verb_forms(*name.split(".", 1))
                self._triggers[token] = _union(_rarest(p) for p in forms)
            return self._triggers[token]
        if name in self._rules and name not in seen:
            # cached under the token ("{deserve}"), never the bare name, which a literal
            # word of the same spelling would share
            if token not in self._triggers:
                alternatives = self._rules[name]
                self._triggers[token] = _union(
                    self.triggers(a, (*seen, name)) for a in alternatives
                )
            return self._triggers[token]
        return None


def _phrases(phrases: Iterable[str], *, plural: bool = False) -> Node:
    """Any of ``phrases``, compared as keys."""
    return matcher.Phrases((keys(p) for p in phrases), plural=plural)


def _rarest_set(sets: Iterable[frozenset[str]]) -> frozenset[str] | None:
    """Of key sets that a match must each hold a key of, the best filter."""
    best: frozenset[str] | None = None
    for found in sets:
        if best is None or _cost(found) < _cost(best):
            best = found
    return best


def _rarest(phrase: str) -> frozenset[str] | None:
    """The phrase's least common word (its longest, if all are common), as a one-key set."""
    words = keys(phrase)
    rare = [w for w in words if w not in _COMMON] or words
    return frozenset([max(rare, key=len)]) if rare else None


def _union(sets: Iterable[frozenset[str] | None]) -> frozenset[str] | None:
    out: set[str] = set()
    for found in sets:
        if found is None:
            return None
        out |= found
    return frozenset(out)


def _cost(triggers: frozenset[str]) -> int:
    """Common words make a poor filter: one counts as a hundred rare ones."""
    return len(triggers) + 100 * len(triggers & _COMMON)


@cache
def _tokens(line: str) -> tuple[str, ...]:
    """Split a line on spaces, keeping ``{...}`` and ``(...)`` whole; ``{x?}`` is ``{x}?``."""
    if "(" not in line and "{" not in line:
        return tuple(line.split())
    tokens: list[str] = []
    depth = 0
    current = ""
    for char in line:
        depth += {"{": 1, "(": 1, "}": -1, ")": -1}.get(char, 0)
        if char == " " and depth == 0:
            if current:
                tokens.append(current)
            current = ""
        else:
            current += char
    if current:
        tokens.append(current)
    return tuple(f"{{{t[1:-2]}}}?" if t.startswith("{") and t.endswith("?}") else t for t in tokens)


def _split(options: str) -> list[str]:
    """``a|b_{rule}|(c|d)_e`` into its alternatives, keeping ``{...}`` and ``(...)`` whole."""
    if "(" not in options and "{" not in options:
        return options.split("|")
    parts: list[str] = []
    depth = 0
    current = ""
    for char in options:
        depth += {"{": 1, "(": 1, "}": -1, ")": -1}.get(char, 0)
        if char == "|" and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return parts


def _spaced(option: str) -> str:
    """``a_b_{rule_name}`` -> ``a b {rule_name}``: underscores are spaces outside braces."""
    return re.sub(r"\{[^}]*\}|_", lambda m: " " if m.group() == "_" else m.group(), option)


_ADJECTIVE = matcher.Word(frozenset(keys(_FUNCTION_WORDS)))
