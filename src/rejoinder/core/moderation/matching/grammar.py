"""A small phrase grammar, compiled to regular expressions over a text's canonical words.

The folded text (normalise.py: lookalikes, leetspeak, spaced letters, repeats undone) is
cut into sentences and words, and each word is reduced to a key: apostrophes dropped,
doubled letters made single ("I'll" -> "il", "kiiill" -> "kil", "sh00t" -> "shot"), a
starred vowel restored when one vowel makes a word the grammar knows ("b*llet" -> "bulet").
A sentence becomes its keys parted by one space, or by ", " where a comma, colon or dash
parted them; a capitalised word keeps its capital, so a rule can ask for a name. The
grammar's own phrases get the same keys, so the patterns are short and a match maps
back, word by word, to the writer's own characters.

A grammar file (``data/threats.json``, ``data/insults.json``) names word lists, verbs with
their forms and rules; a rule is a list of alternatives, an alternative a line of tokens:

* ``{name}`` a list or a rule; ``{name?}`` the same, optional. A verb class ``violence``
  gives ``{violence.base}``, ``{violence.third}``, ``{violence.past}``, ``{violence.part}``
  and ``{violence.ing}``;
* ``(a|b_c|d_{rule})`` one of a few alternatives (``_`` for a space);
* ``NAME`` a capitalised word (or two) that is not on the ``name_stopwords`` list;
  ``AGENT`` a plural in -ers, -ists or -ians not on ``agent_stopwords`` ("marchers");
* ``WORD`` any one word; ``ADJ`` any word but a function word; both may take ``?``;
* ``...`` up to six words;
* ``^`` the start of a clause (of the sentence, or after a comma), ``^,`` only after a
  comma (first); ``$`` the end of the
  sentence, ``,`` the end of a clause (a comma or the end of the sentence) — both last;
* anything else is a literal phrase; ``word?`` an optional one.

Rules refer to lists and to other rules, never to themselves.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache, cached_property, lru_cache
from typing import Any

from rejoinder.core.moderation.matching.folding import Folded, fold

GAP = "(?:, | )"
_WORD = r"[A-Za-z0-9*]+"
_START = "(?:§|,)"  # the mark that opens every sentence's keys, or a comma
_END = r"(?=,?$)"
_BREAK = r"(?=, |$)"
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
_SENTENCE = re.compile(r"[^.!?;\n]+")
_TOKEN = re.compile(r"(?:[^\W_]|['’*])+")
_CLAUSE_BREAK = re.compile(r"[,:—–()\"“”]|\s-\s")


# Contractions written without their apostrophe, split like the ones written with it.
_BARE_CONTRACTIONS = {
    "im": "i'm",
    "ive": "i've",
    "ill": "i'll",
    "youre": "you're",
    "youve": "you've",
    "youll": "you'll",
    "youd": "you'd",
    "theyre": "they're",
    "theyll": "they'll",
    "theyve": "they've",
    "theyd": "they'd",
    "hes": "he's",
    "shes": "she's",
    "dont": "don't",
    "doesnt": "doesn't",
    "didnt": "didn't",
    "cant": "can't",
    "wont": "won't",
    "isnt": "isn't",
    "arent": "aren't",
    "wasnt": "wasn't",
    "werent": "weren't",
    "shouldnt": "shouldn't",
    "wouldnt": "wouldn't",
    "couldnt": "couldn't",
    "mustnt": "mustn't",
    "havent": "haven't",
    "hasnt": "hasn't",
    "hadnt": "hadn't",
    "aint": "ain't",
    "lets": "let's",
    "whats": "what's",
    "thats": "that's",
    "theres": "there's",
    "whos": "who's",
    "heres": "here's",
    "someones": "someone's",
    "somebodys": "somebody's",
    "itll": "it'll",
    "thatll": "that'll",
}


def word_keys(word: str) -> list[str]:
    """A word's keys: lowercase, split at an apostrophe ("I'll" -> i, ll; "won't" -> wo,
    nt; "senator's" -> senator, s), doubled vowels made single ("kiiill" -> kill)."""
    word = word.lower().replace("’", "'").strip("'")
    word = _BARE_CONTRACTIONS.get(word, word)
    if word[:2] in ("1'", "!'"):  # "1'm", "1'll": leetspeak for I, left alone by fold
        word = "i" + word[1:]
    parts = [word[:-3], "nt"] if word.endswith("n't") else word.split("'")
    return [re.sub(r"([aeiouy])\1+", r"\1", part) for part in parts if part]


@lru_cache(maxsize=65536)
def _cached_keys(word: str) -> tuple[str, ...]:
    """`word_keys`, remembered: a comment's words are mostly the same few thousand."""
    return tuple(word_keys(word))


def keys(phrase: str) -> list[str]:
    """The keys of a phrase's words, folded the way a comment is."""
    return list(_phrase_keys(phrase))


@cache
def _phrase_keys(phrase: str) -> tuple[str, ...]:
    return tuple(k for w in _TOKEN.findall(fold(phrase).text) for k in word_keys(w))


@dataclass(frozen=True)
class Sentence:
    """One sentence as keys (``text``: "§ key key, key"), and where each key's word lies
    in the folded text."""

    text: str
    key_starts: tuple[int, ...]  # offset of each word in ``text``
    folded_starts: tuple[int, ...]  # and the folded range of that word
    folded_ends: tuple[int, ...]

    @cached_property
    def words(self) -> frozenset[str]:
        """The sentence's keys, lowercase."""
        return frozenset(self.positions)

    @cached_property
    def positions(self) -> dict[str, list[int]]:
        """Each key (lowercase) and where it stands among the sentence's words."""
        out: dict[str, list[int]] = {}
        for n, key in enumerate(self.text.lower().replace(",", " ").split()[1:]):
            out.setdefault(key, []).append(n)
        return out

    def folded_range(self, start: int, end: int) -> tuple[int, int]:
        """The folded range of the words that ``text[start:end]`` covers."""
        first = next(i for i, s in enumerate(self.key_starts) if s >= start)
        last = max(i for i, s in enumerate(self.key_starts) if s < end)
        return self.folded_starts[first], self.folded_ends[last]


def sentences(folded: Folded, vocabulary: frozenset[str]) -> tuple[Sentence, ...]:
    """The folded text as sentences of keys, a capital kept on a capitalised word (not on
    one written all in capitals) for names. Letters that were
    spaced out ("i w i l l k i l l y o u") come out of fold() as one run; such a run is
    cut back into the words the grammar knows, when it can be cut into them whole."""
    if not folded.joined and "*" not in folded.text:
        # Only spaced-out runs and starred vowels need the grammar's vocabulary: without
        # them every grammar gets the same sentences, made once for the three phases.
        return _plain_sentences(folded)
    return _sentences(folded, vocabulary)


@lru_cache(maxsize=16)
def _plain_sentences(folded: Folded) -> tuple[Sentence, ...]:
    return _sentences(folded, frozenset())


def _sentences(folded: Folded, vocabulary: frozenset[str]) -> tuple[Sentence, ...]:
    out = []
    for sentence in _SENTENCE.finditer(folded.text):
        parts: list[str] = ["§"]  # a clause start a pattern can ask for with ^
        key_starts: list[int] = []
        starts: list[int] = []
        ends: list[int] = []
        length = 1
        previous_end = sentence.start()
        for token in _TOKEN.finditer(folded.text, sentence.start(), sentence.end()):
            written = folded.source[folded.starts[token.start()] : folded.ends[token.end() - 1]]
            capital = written[:1].isupper() and not (len(written) > 1 and written.isupper())
            found: Sequence[str] = _cached_keys(token.group())
            if len(found) == 1 and _is_joined(folded, token.start(), token.end()):
                found = _segment(found[0], vocabulary) or found
            for index, word in enumerate(found):
                word = _unmask(word, vocabulary)
                if not word:
                    continue
                if index == 0 and capital and word[0].isalpha():
                    word = word[0].upper() + word[1:]
                between = folded.text[previous_end : token.start()]
                comma = len(parts) > 1 and index == 0 and _CLAUSE_BREAK.search(between)
                parts.append(", " if comma else " ")
                length += len(parts[-1])
                key_starts.append(length)
                parts.append(word)
                length += len(word)
                starts.append(token.start())
                ends.append(token.end())
            previous_end = token.end()
        if key_starts:
            out.append(Sentence("".join(parts), tuple(key_starts), tuple(starts), tuple(ends)))
    return tuple(out)


def _is_joined(folded: Folded, start: int, end: int) -> bool:
    return any(a <= start and end <= b for a, b in folded.joined)


def _segment(run: str, vocabulary: frozenset[str]) -> list[str] | None:
    """``iwillkillyou`` -> i, will, kill, you: the fewest known keys that make the run."""
    if run in vocabulary or len(run) > 40:
        return None
    best: list[list[str] | None] = [[]] + [None] * len(run)
    for end in range(1, len(run) + 1):
        for start in range(max(0, end - 15), end):
            head = best[start]
            piece = run[start:end]
            if head is not None and piece in vocabulary:
                candidate = [*head, piece]
                current = best[end]
                if current is None or len(candidate) < len(current):
                    best[end] = candidate
    return best[len(run)]


#: Stars a word may hide vowels behind ("b*llet", "f**k"): each star tries six vowels, so the
#: candidates grow six-fold per star, and a run of stars ("*********") would take gigabytes.
_MAX_STARS = 3


def _unmask(word: str, vocabulary: frozenset[str]) -> str:
    """'b*let' -> 'bulet' when exactly one vowel for each star makes a known word; a word
    with more than ``_MAX_STARS`` stars loses them instead."""
    if "*" not in word:
        return word
    if word.count("*") > _MAX_STARS:
        return word.replace("*", "")
    candidates = [word]
    for _ in range(word.count("*")):
        candidates = [c.replace("*", v, 1) for c in candidates for v in "aeiouy"]
    known = {k for c in candidates for k in word_keys(c) if len(k) >= 3} & vocabulary
    return next(iter(known)) if len(known) == 1 else word.replace("*", "")


@dataclass(frozen=True)
class Pattern:
    """One pattern and what the matcher must check around it. The regular expression is
    compiled the first time a sentence holds one of its triggers (most never do), so a
    process that never sees a threat never pays for compiling the big ones."""

    code: str
    expression: str
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

    def may_match(self, words: frozenset[str]) -> bool:
        if self.triggers is not None and self.triggers.isdisjoint(words):
            return False
        return all(not keys.isdisjoint(words) for keys in self.requires)

    def in_order(self, sentence: Sentence) -> bool:
        """Whether the sentence holds a key of each required token in the line's order (the
        earliest such key each time, which finds an ordering if there is one). Cheaper than a
        search with a big pattern, whose first token (a long list of subjects) is tried at
        every word."""
        if len(self.order) < 2:
            return True
        positions = sentence.positions
        at = -1
        for keys in self.order:
            found = [p for k in keys & sentence.words for p in positions[k] if p > at]
            if not found:
                return False
            at = min(found)
        return True

    @property
    def regex(self) -> re.Pattern[str]:
        return _compiled(self.expression)


@cache
def _compiled(expression: str) -> re.Pattern[str]:
    return re.compile(expression, re.IGNORECASE)


def alternation(phrases: Sequence[str], plural: bool = False) -> str:
    """Any of ``phrases`` (as keys) as one group: a trie, so that shared beginnings are
    matched once ("kill|killed|killing" -> "kill(?:ed|ing)?")."""
    options = {" ".join(keys(p)) for p in phrases} - {""}
    if not options:
        return "(?!)"
    suffix = "(?:e?s)?" if plural else ""
    return f"(?:{_trie(sorted(options))}{suffix})"


def _trie(options: list[str]) -> str:
    """A regex for a sorted list of strings, longest match first at every branch."""
    tree: dict[str, Any] = {}
    for option in options:
        node = tree
        for char in option:
            node = node.setdefault(char, {})
        node[""] = {}
    return _node(tree)


def _node(node: dict[str, Any]) -> str:
    ends = "" in node
    branches = []
    for char in sorted((c for c in node if c), key=lambda c: (c == " ", c)):
        piece = GAP if char == " " else re.escape(char)
        rest = _node(node[char])
        branches.append(piece + rest)
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    if ends:
        body = f"(?:{body})?" if len(branches) > 1 or len(body) > 1 else f"{body}?"
    return body


class Grammar:
    """The lists, verbs and rules of one grammar file, compiled on demand."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self._lists: Mapping[str, Sequence[str]] = data.get("words", {})
        self._nouns = frozenset(data.get("nouns", ()))
        self._verbs: Mapping[str, Mapping[str, str]] = data.get("verbs", {})
        self._rules: Mapping[str, Sequence[str]] = data.get("rules", {})
        self._compiled: dict[str, str] = {}
        self._triggers: dict[str, frozenset[str] | None] = {}

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

    def rule(self, name: str, _seen: tuple[str, ...] = ()) -> str:
        """The regex of a list, a verb form or a rule."""
        if name in self._compiled:
            return self._compiled[name]
        if name in _seen:
            raise ValueError(f"the rule {name!r} refers to itself")
        if name in self._lists:
            regex = alternation(self._lists[name], plural=name in self._nouns)
        elif "." in name and name.split(".")[0] in self._verbs:
            regex = self._verb(*name.split(".", 1))
        elif name in self._rules:
            seen = (*_seen, name)
            regex = "(?:" + "|".join(self.sequence(s, seen) for s in self._rules[name]) + ")"
        elif name == "NAME":
            regex = self._name()
        else:
            raise ValueError(f"unknown rule or list {name!r}")
        self._compiled[name] = regex
        return regex

    def _verb(self, verb_class: str, form: str) -> str:
        phrases: list[str] = []
        for base, forms in self._verbs[verb_class].items():
            others = dict(zip(_FORMS, forms.split("|"), strict=True))
            if form == "base":
                phrases.append(base)
            elif form == "any":
                phrases.extend([base, *others.values()])
            else:
                phrases.append(others[form])
        return alternation(phrases)

    def _agent(self) -> str:
        """A plural noun for people by what they do: marchers, cyclists, politicians."""
        if "AGENT" not in self._compiled:
            stops = {k for w in self._lists.get("agent_stopwords", ()) for k in keys(w)}
            not_stop = "(?!(?:" + "|".join(sorted(stops, key=len, reverse=True)) + r")\b)"
            self._compiled["AGENT"] = rf"{not_stop}[a-z]{{2,}}?(?:ers|ists|ians)\b"
        return self._compiled["AGENT"]

    def _name(self) -> str:
        stops = {k.capitalize() for w in self._lists.get("name_stopwords", ()) for k in keys(w)}
        not_stop = "(?!(?:" + "|".join(sorted(stops)) + r")\b)" if stops else ""
        word = rf"{not_stop}[A-Z][a-z]+"
        return rf"(?-i:{word}(?: {word})?)"

    def sequence(self, line: str, _seen: tuple[str, ...] = ()) -> str:
        """The regex of one line of tokens, with a gap between every two words."""
        tokens = _tokens(line)
        out = ""
        gap = False  # whether the next word must be parted from the last by a gap
        for index, token in enumerate(tokens):
            last = index == len(tokens) - 1
            if token in ("^", "^,"):
                if index:
                    raise ValueError(f"{token} must come first: {line!r}")
                out += _START if token == "^" else ","
                gap = True
            elif token in ("$", ","):
                if not last:
                    raise ValueError(f"{token} must come last: {line!r}")
                out += _END if token == "$" else _BREAK
            elif token == "...":
                if last:
                    out += rf"(?:{GAP}{_WORD}){{0,6}}" if gap else rf"(?:{_WORD}{GAP}?){{0,6}}"
                elif gap:
                    out += rf"(?:{GAP}{_WORD}){{0,6}}?"
                else:
                    out += rf"(?:{_WORD}{GAP}){{0,6}}?"
            elif token.endswith("?") and len(token) > 1:
                body = self._token(token[:-1], _seen)
                out += f"(?:{GAP}{body})?" if gap else f"(?:{body}{GAP})?"
            else:
                out += (GAP if gap else "") + self._token(token, _seen)
                gap = True
        return "(?:" + out + ")"

    def _token(self, token: str, seen: tuple[str, ...]) -> str:
        if token.startswith("{") and token.endswith("}"):
            return self.rule(token[1:-1], seen)
        if token.startswith("(") and token.endswith(")"):
            options = [self.sequence(_spaced(p), seen) for p in _split(token[1:-1])]
            return "(?:" + "|".join(sorted(set(options), key=len, reverse=True)) + ")"
        if token == "NAME":
            return self.rule("NAME")
        if token == "AGENT":
            return self._agent()
        if token == "WORD":
            return _WORD
        if token == "ADJ":
            return _adjective()
        return alternation([token.replace("_", " ")])

    def compile(self, code: str, entry: str | Mapping[str, Any], default_id: str = "") -> Pattern:
        """One pattern of the file: a line, or ``{"id": id, "seq": line, ...flags}``."""
        flags: Mapping[str, Any] = {} if isinstance(entry, str) else entry
        line = entry if isinstance(entry, str) else str(entry["seq"])
        # a word starts after a non-word; a clause start (",") may follow a word
        expression = rf"(?:(?<![\w*])|(?=,)){self.sequence(line)}(?![\w*])"
        return Pattern(
            code,
            expression,
            line,
            id=str(flags.get("id") or default_id),
            guarded=bool(flags.get("guarded", True)),
            person=bool(flags.get("person", False)),
            no_negation=bool(flags.get("no_negation", False)),
            imperative=bool(flags.get("imperative", False)),
            triggers=self.triggers(line),
            requires=self.requirements(line),
            order=tuple(self._required(line, ())),
        )

    def triggers(self, line: str, _seen: tuple[str, ...] = ()) -> frozenset[str] | None:
        """Keys of which every match of ``line`` holds one (None: no such set is known).

        Of the line's required tokens, the one whose words are rarest is chosen; a
        sentence with none of its keys is not searched at all, which is most sentences.
        """
        best: frozenset[str] | None = None
        for found in self._required(line, _seen):
            if best is None or _cost(found) < _cost(best):
                best = found
        return best

    def requirements(self, line: str) -> tuple[frozenset[str], ...]:
        """One key set per required token of ``line`` that has one: a match holds a key of
        each. Checking them all costs a few set lookups; a regex that cannot match still
        costs a search of the sentence (measured in docs/ARCHITECTURE.md)."""
        return tuple(sorted(set(self._required(line, ())), key=_cost))

    def _required(self, line: str, seen: tuple[str, ...]) -> list[frozenset[str]]:
        found = []
        for token in _tokens(line):
            special = token in ("^", "^,", "$", ",", "...", "NAME", "WORD", "ADJ", "AGENT")
            if special or token.endswith("?"):
                continue
            keys = self._token_triggers(token, seen)
            if keys is not None:
                found.append(keys)
        return found

    def _token_triggers(self, token: str, seen: tuple[str, ...]) -> frozenset[str] | None:
        if token.startswith("(") and token.endswith(")"):
            return _union(self.triggers(_spaced(p), seen) for p in _split(token[1:-1]))
        if not (token.startswith("{") and token.endswith("}")):
            return _union([_rarest(token.replace("_", " "))])
        name = token[1:-1]
        if name in self._lists:
            found = _union(_rarest(p) for p in self._lists[name])
            if name in self._nouns and found is not None:
                # a noun list also matches plurals and possessives ("rats", "rat's")
                found = found | {k + end for k in found for end in ("s", "es")}
            return found
        if "." in name and name.split(".")[0] in self._verbs:
            verb_class, form = name.split(".", 1)
            phrases = []
            for base, forms in self._verbs[verb_class].items():
                others = dict(zip(_FORMS, forms.split("|"), strict=True))
                phrases += (
                    [base, *others.values()]
                    if form == "any"
                    else [base if form == "base" else others[form]]
                )
            return _union(_rarest(p) for p in phrases)
        if name in self._rules and name not in seen:
            if name not in self._triggers:
                alternatives = self._rules[name]
                self._triggers[name] = _union(self.triggers(a, (*seen, name)) for a in alternatives)
            return self._triggers[name]
        return None

    def finder(self, name: str) -> re.Pattern[str]:
        """A list or rule as a regex of whole words, to search a sentence's keys with."""
        return re.compile(rf"(?<![\w*]){self.rule(name)}(?![\w*])", re.IGNORECASE)


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


def _tokens(line: str) -> list[str]:
    """Split a line on spaces, keeping ``{...}`` and ``(...)`` whole; ``{x?}`` is ``{x}?``."""
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
    return [f"{{{t[1:-2]}}}?" if t.startswith("{") and t.endswith("?}") else t for t in tokens]


def _split(options: str) -> list[str]:
    """``a|b_{rule}|(c|d)_e`` into its alternatives, keeping ``{...}`` and ``(...)`` whole."""
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


def _adjective() -> str:
    stops = "|".join(sorted({k for k in keys(_FUNCTION_WORDS)}, key=len, reverse=True))
    return rf"(?!(?:{stops})\b){_WORD}"
