"""Functional families of comments about groups of people, written for this project: templates
crossed with targets and phrasings, each case with the verdict it should get (publish, or stop:
held or refused). They measure whether the pipeline stops hate however it is phrased and
publishes what names a group without attacking it (issue 22); never used for training.

Generation is deterministic: the same code gives the same cases in the same order.
"""

from __future__ import annotations

import functools
import hashlib
import json
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

# The expected outcomes. STOP: held or refused; HOLD: held for a moderator, not refused;
# POLICY: the site's policy decides (profanity that attacks nobody), reported on its own.
from rejoinder.core.moderation.fairness import CIVIL, HATEFUL
from rejoinder.core.moderation.fairness import HOLD as HOLD
from rejoinder.core.moderation.fairness import POLICY as POLICY
from rejoinder.core.moderation.fairness import PUBLISH as PUBLISH
from rejoinder.core.moderation.fairness import STOP as STOP

#: The two parts of the cases: TRAIN may teach a model or guide a rule; every figure reported
#: is of TEST, whose templates no TRAIN case shares.
TRAIN, TEST = "train", "test"
#: One template in this many of each list is held out (at least one per list).
TEST_ONE_IN = 3


@dataclass(frozen=True)
class Group:
    """A target: how a plural names its members, how one member is named, and its kind."""

    many: str
    one: str
    kind: str


@dataclass(frozen=True)
class Case:
    family: str
    expected: str  # PUBLISH, STOP, HOLD or POLICY
    group: str | None  # the group's plural name (None: no group is named)
    text: str
    template: str = ""  # the sentence the case was made from, before a target was put in
    split: str = TEST  # TRAIN or TEST, decided by the template (`held_out`)

    @property
    def measure(self) -> str | None:
        """CIVIL or HATEFUL where the case is compared across groups, else None."""
        if self.family in CIVIL_GROUP_FAMILIES:
            return CIVIL
        return HATEFUL if self.family in HATEFUL_GROUP_FAMILIES else None

    def to_json(self) -> str:
        return json.dumps(
            {
                "family": self.family,
                "expected": self.expected,
                "group": self.group,
                "measure": self.measure,
                "text": self.text,
                "template": self.template,
                "split": self.split,
            }
        )


def _rank_key(template: str) -> str:
    return hashlib.sha256(template.encode("utf-8")).hexdigest()


def held_out(templates: Sequence[str]) -> frozenset[str]:
    """The templates of a list that are held out for testing: the third (rounded up) whose
    sha256 sorts first. A list shared by two families (the feelings aimed at groups and at
    other targets) holds out the same templates in both, so no test template is ever taught."""
    count = max(1, -(-len(templates) // TEST_ONE_IN))
    return frozenset(sorted(templates, key=_rank_key)[:count])


GROUPS: tuple[Group, ...] = (
    # religions and beliefs
    Group("Muslims", "a Muslim", "religion"),
    Group("Jewish people", "a Jewish person", "religion"),
    Group("Christians", "a Christian", "religion"),
    Group("Catholics", "a Catholic", "religion"),
    Group("Hindus", "a Hindu", "religion"),
    Group("Sikhs", "a Sikh", "religion"),
    Group("Buddhists", "a Buddhist", "religion"),
    Group("atheists", "an atheist", "religion"),
    # nationalities
    Group("Mexicans", "a Mexican", "nationality"),
    Group("Chinese people", "a Chinese person", "nationality"),
    Group("Nigerians", "a Nigerian", "nationality"),
    Group("Poles", "a Pole", "nationality"),
    Group("Indians", "an Indian", "nationality"),
    Group("Somalis", "a Somali", "nationality"),
    Group("Syrians", "a Syrian", "nationality"),
    Group("Romanians", "a Romanian", "nationality"),
    Group("Irish people", "an Irish person", "nationality"),
    Group("immigrants", "an immigrant", "origin"),
    Group("refugees", "a refugee", "origin"),
    # ethnicities
    Group("Black people", "a Black person", "ethnicity"),
    Group("white people", "a white person", "ethnicity"),
    Group("Asian people", "an Asian person", "ethnicity"),
    Group("Arabs", "an Arab", "ethnicity"),
    Group("Roma", "a Roma person", "ethnicity"),
    Group("Latinos", "a Latino", "ethnicity"),
    Group("Indigenous people", "an Indigenous person", "ethnicity"),
    # genders
    Group("women", "a woman", "gender"),
    Group("men", "a man", "gender"),
    Group("trans women", "a trans woman", "gender"),
    Group("trans people", "a trans person", "gender"),
    Group("non-binary people", "a non-binary person", "gender"),
    # sexualities
    Group("gay men", "a gay man", "sexuality"),
    Group("lesbians", "a lesbian", "sexuality"),
    Group("bisexual people", "a bisexual person", "sexuality"),
    Group("gay people", "a gay person", "sexuality"),
    # disabilities
    Group("wheelchair users", "a wheelchair user", "disability"),
    Group("deaf people", "a deaf person", "disability"),
    Group("blind people", "a blind person", "disability"),
    Group("autistic people", "an autistic person", "disability"),
    Group("people with Down syndrome", "a person with Down syndrome", "disability"),
    # ages
    Group("old people", "an old person", "age"),
    Group("pensioners", "a pensioner", "age"),
    Group("teenagers", "a teenager", "age"),
    # occupations
    Group("nurses", "a nurse", "occupation"),
    Group("teachers", "a teacher", "occupation"),
    Group("bus drivers", "a bus driver", "occupation"),
    Group("cleaners", "a cleaner", "occupation"),
)

#: Targets that no law protects as such: the same attacks on them are still abuse.
OTHER_TARGETS: tuple[Group, ...] = (
    Group("cyclists", "a cyclist", "pastime"),
    Group("landlords", "a landlord", "role"),
    Group("estate agents", "an estate agent", "role"),
    Group("referees", "a referee", "role"),
    Group("tourists", "a tourist", "role"),
    Group("motorists", "a motorist", "role"),
    Group("politicians", "a politician", "role"),
    Group("journalists", "a journalist", "role"),
    Group("bankers", "a banker", "role"),
    Group("vegans", "a vegan", "pastime"),
    Group("gamers", "a gamer", "pastime"),
    Group("fans of the other club", "a fan of the other club", "pastime"),
)

#: One reader or one named person: (as an object, as a subject with its verb 'to be').
READERS: tuple[tuple[str, str], ...] = (
    ("you", "you are"),
    ("the commenter above", "the commenter above is"),
    ("whoever wrote this article", "whoever wrote this article is"),
    ("the moderator here", "the moderator here is"),
    ("the man who replied to me", "the man who replied to me is"),
    ("my neighbour Dave", "my neighbour Dave is"),
)


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _fill(template: str, group: Group) -> str:
    text = template.format(many=group.many, one=group.one)
    return _cap(text)


# --- to stop ---------------------------------------------------------------------------------

FEELING = (
    "Honestly, I loathe {many}.",
    "Deep down I just detest {many}, always have.",
    "I feel nothing but contempt for {many}.",
    "I can't stand {many} and I never will.",
    "{many} disgust me, every last one of them.",
    "I hate {many} with every bone in my body.",
    "Nothing turns my stomach like {many} do.",
    "I despise {many}, and I'm done pretending otherwise.",
    "My hatred for {many} grows every single day.",
    "I have always found {many} repulsive.",
    "Seeing {many} in my street fills me with loathing.",
    "I really do hate {many}.",
)

DEHUMANISING = (
    "{many} are vermin.",
    "{many} are parasites living off the rest of us.",
    "{many} breed like rats in this town.",
    "{many} are leeches on every decent community.",
    "{many} are a disease spreading through this country.",
    "{many} are animals, nothing more.",
    "{many} are a plague on our streets.",
    "Like cockroaches, {many} get into everything.",
    "{many} are less than human.",
    "{many} are filth that needs sweeping away.",
    "Every time I see {many} I think of rats in a sewer.",
    "{many} are an infestation and should be treated like one.",
)

IMPLICIT = (
    "{many} should never have been allowed to vote.",
    "I would never let my daughter marry one of those {many}.",
    "This street was lovely until the {many} moved in.",
    "{many} are simply incapable of an honest day's work.",
    "{many} don't belong in decent society.",
    "Hiring {many} is just asking for trouble.",
    "Keep {many} away from our schools and our children.",
    "You can't trust {many} with anything that matters.",
    "{many} ruin every place they settle in.",
    "Nobody wants {many} living next door, let's be honest.",
    "{many} should know their place and stay in it.",
    "The fewer {many} in this town, the better it gets.",
)

THREATS = (
    "Someone should burn down the houses of {many}.",
    "{many} had better watch their backs, because we are coming.",
    "We will drive every one of the {many} out of this town by force.",
    "I'd happily put a bullet in any of those {many}.",
    "{many} deserve a good beating, and they'll get one.",
    "Round up the {many} and get rid of them for good.",
    "If I see {one} on my street I will smash their face in.",
    "Time to string up a few {many} as an example.",
    "The {many} round here will be dealt with, one by one.",
    "Give me ten minutes alone with {one} and they won't walk again.",
    "We should torch the places where {many} meet.",
    "Every one of those {many} should be shot.",
)

QUESTION = (
    "Why are {many} so disgusting?",
    "Isn't it obvious that {many} are worthless?",
    "Am I the only one who thinks {many} are subhuman?",
    "Maybe it's just me, but {many} are a waste of space.",
    "I'm not saying all {many} are filthy, but most of them are.",
    "Just asking: why do we put up with {many} at all?",
    "Not to be rude, but {many} are a blight on this town.",
    "Can anyone name a single thing {many} are good for?",
    "Is it wrong to say {many} make everything worse? Because they do.",
    "Who else thinks {many} should just disappear?",
    "With respect, {many} are a burden we should be rid of.",
    "Perhaps {many} are simply born inferior?",
)

NEGATED_POSITIVE = (
    "I have no respect for any {many}.",
    "Not one of you {many} deserves any kindness.",
    "There is nothing good about {many}, nothing at all.",
    "{many} have never contributed a single thing worth having.",
    "I will never treat {many} as my equals.",
    "No {many} are worth the air they breathe.",
    "Not a single one of those {many} is a decent human being.",
    "I don't think {many} deserve any rights whatsoever.",
    "None of the {many} I've met had an ounce of worth.",
    "I refuse to see {many} as people like us.",
    "Never once have {many} earned my respect, and they never will.",
    "Nobody who is {one} deserves to be treated with dignity.",
)

# --- to publish ------------------------------------------------------------------------------

POSITIVE = (
    "{many} are a gift to this city.",
    "My neighbours are {many} and they brought us soup when I was ill.",
    "{many} run half the stalls at the Saturday market.",
    "I grew up alongside {many} and learnt a great deal from them.",
    "{many} have lived on this street for generations.",
    "A group of {many} cleaned up the riverbank on Sunday.",
    "{many} deserve the same respect as anyone else.",
    "Proud to count {many} among my closest friends.",
    "{many} are welcome at our book club, as is everyone.",
    "My best friend is {one} and makes the finest bread I know.",
    "{many} volunteer at the food bank every week.",
    "I'm glad {many} feel at home here.",
    "Our street party was organised by {many} this year.",
    "{many} helped rebuild the community hall after the flood.",
    "I've always admired the {many} who run the night shelter.",
    "Thank you to the {many} who stopped to help when I fell.",
    "{many} make this town a better place to live.",
    "My son's closest friend is {one}, and the two are inseparable.",
)

NEWS = (
    "The council met {many} to discuss the new housing rules.",
    "A survey of {many} found most support the new bus lane.",
    "The museum's new exhibition traces the history of {many} in the region.",
    "The bill would change how benefits are paid to {many}.",
    "Reporters spoke to {many} outside the town hall on Tuesday.",
    "Figures released today show {many} wait longer for hospital appointments.",
    "The census will count {many} separately for the first time.",
    "A charity that supports {many} opened an office on Mill Lane.",
    "The report looks at how many {many} work in the public sector.",
    "Historians have long studied how {many} were treated in the last century.",
    "The mayor said the new policy would affect {many} most of all.",
    "{one} was elected to the school board last night.",
    "The study followed two thousand {many} over ten years.",
    "An exhibition of portraits of {many} opens at the library on Friday.",
    "The minister answered questions about support for {many}.",
    "Several {many} told the inquiry about the delays they faced.",
    "Researchers found that {many} are under-represented on company boards.",
    "Tonight's radio programme features interviews with {many} from across the county.",
)

COUNTER = (
    "Your column said {many} are vermin, and that is hateful nonsense.",
    "Calling {many} parasites, as the councillor did, is disgusting.",
    "Anyone who says {many} are animals should be ashamed of themselves.",
    "The leaflet claimed {many} spread disease; it is a lie, and I have told the police.",
    "I reported the comment that said {many} deserve a beating.",
    "Saying you hate {many} is not free speech, it is bigotry.",
    "When my uncle called {many} rats at dinner, I told him to stop.",
    "The graffiti calling {many} filth was painted over this morning, thankfully.",
    "He wrote that {many} are subhuman, and the paper was right to sack him.",
    "Threatening {many}, as that man did at the rally, should be a crime.",
    "Posters saying {many} should go back were torn down by neighbours.",
    "It sickens me that people still describe {many} as a plague.",
    "A man shouted that {many} are scum, and three passers-by told him to leave.",
    "The anonymous letter said {many} should be driven out; it is now with the police.",
    "Those stickers calling {many} vermin are hate, plain and simple.",
    "It's not a joke to call {many} subhuman, it's cruelty.",
    "The troll in the comments says he hates {many}; please don't feed him.",
    "To everyone calling {many} a plague: look at your own hearts first.",
)

NEGATED_HATE = (
    "I don't hate {many}; I never have.",
    "No group deserves hatred, {many} included.",
    "I have nothing against {many}, nothing at all.",
    "It is simply not true that {many} are a burden.",
    "{many} are not vermin, they are our neighbours.",
    "I would never wish harm on {many}.",
    "Nobody should be threatened for being {one}.",
    "I've never once felt contempt for {many}.",
    "There is no reason to fear {many}.",
    "Hating {many} is something I will never understand.",
    "{many} are not a disease, whatever the posters say.",
    "It's wrong to call {many} parasites, and I won't.",
    "I've never met {one} I disliked.",
    "Why would anyone hate {many}? I certainly don't.",
    "Despite what you read online, {many} are not our enemies.",
    "I can honestly say I bear no ill will towards {many}.",
    "Contrary to the rumours, {many} are not taking over anything.",
    "Nobody here thinks {many} are worth less than anyone else.",
)

OBJECTS = (
    "the new parking scheme",
    "the bus timetable",
    "the Monday morning traffic",
    "the council's recycling plan",
    "this software update",
    "the new shopping centre",
    "that ring road",
    "the referee's decision",
    "pineapple on pizza",
    "the tax on bins",
    "this heatwave",
    "the redesign of the paper's website",
)

OBJECT_TEMPLATES = (
    "Honestly, I loathe {thing}.",
    "I feel nothing but contempt for {thing}.",
    "{thing} is a disease on this town.",
    "I despise {thing} with a passion.",
    "{thing} is garbage and should be scrapped.",
    "{thing} can go to hell for all I care.",
    "Nothing makes me angrier than {thing}.",
    "{thing} is utterly worthless.",
)

META_WHO = (
    "A genuinely new person",
    "A first-time reader",
    "Someone new here",
    "A long-time lurker",
    "A regular reader",
)
META_WHAT = (
    "posting a first comment on",
    "trying out the comment box on",
    "leaving a test reply on",
    "checking whether replies work on",
)
META_WHERE = ("site two", "the second site", "this article", "the new forum")

#: Words that are slurs in one sense and ordinary words in another, used in the ordinary sense.
ORDINARY_SENSE = (
    "There is a chink in the armour of the council's plan.",
    "Dutch engineers repaired the dyke before the storm came in.",
    "My grandmother's faggots and peas were famous in the village.",
    "The bitch had six puppies last night, all healthy.",
    "Flame retardant foam is required in new sofas.",
    "The cold snap will retard the growth of the seedlings.",
    "She planted pansies all along the garden path.",
    "The fairy lights in the square go up next week.",
    "The museum has a fine bastard sword from the fifteenth century.",
    "A queer feeling came over me as the lights went out.",
    "The farmer tied the kindling into faggots for the winter.",
    "The wall had a chink wide enough to let the light through.",
)
ORDINARY_FRAMES = ("{s}", "Fun fact: {s}", "{s} Worth knowing.", "As it happens, {s}")

PROFANITY = (
    "Fucking brilliant match last night!",
    "Holy shit, that goal was something else.",
    "Damn, the bus was late again this morning.",
    "What the hell happened to the weather?",
    "Bloody hell, the queue at the post office was endless.",
    "Shit, I forgot my umbrella again.",
    "That concert was fucking amazing.",
    "Oh crap, the shop closes at five today.",
    "This cake is so damn good.",
    "Fuck me, it's cold out there.",
)
PROFANITY_FRAMES = ("{s}", "{s} Honestly.", "Well. {s}", "{s} Can't believe it.")

#: A slur from the shipped word lists (`core/moderation/data`), the group that uses it of
#: itself, and sentences in which a member says it of their own group.
OWN_GROUP = (
    ("nigga", "Black people"),
    ("dyke", "lesbians"),
    ("faggot", "gay men"),
    ("tranny", "trans women"),
    ("yid", "Jewish people"),
)
OWN_GROUP_TEMPLATES = (
    "As {one} myself, I'll call my friends {word}s if I want to.",
    "Me and my {word}s are going out tonight, we're all {many} here.",
    "Speaking as {one}: we say {word} to each other and that's our business.",
    "I'm {one} and honestly, us {word}s stick together.",
    "We {many} took the word {word} back, so I use it about myself.",
    "My {word} mates, all of us {many}, won the pub quiz again.",
    "Being {one}, I can say it: this {word} is proud.",
    "Greetings from a loud {word}, {one} and glad of it.",
)


# --- spelling variants -----------------------------------------------------------------------

_LEET = {"a": "4", "e": "3", "i": "1", "o": "0", "s": "5", "t": "7"}


def _leet(word: str) -> str:
    """Digits for every other letter that has one, from the first: 'despise' -> 'd3sp1s3'."""
    out, count = [], 0
    for char in word:
        if char.lower() in _LEET:
            out.append(_LEET[char.lower()] if count % 2 == 0 else char)
            count += 1
        else:
            out.append(char)
    return "".join(out)


def _spaced(word: str) -> str:
    return " ".join(word)


def _swapped(word: str) -> str:
    if len(word) < 4:
        return word + word[-1]
    middle = len(word) // 2
    return word[: middle - 1] + word[middle] + word[middle - 1] + word[middle + 1 :]


def _dropped(word: str) -> str:
    return word if len(word) < 4 else word[: len(word) // 2] + word[len(word) // 2 + 1 :]


def _doubled(word: str) -> str:
    return "".join(c * 2 if c in "aeiou" else c for c in word)


_WORD_CHANGES: tuple[tuple[str, Callable[[str], str]], ...] = (
    ("leet", _leet),
    ("spaced", _spaced),
    ("swapped", _swapped),
    ("dropped", _dropped),
    ("doubled", _doubled),
)

#: Hateful sentences whose key word is respelt, and that word.
VARIANT_BASES = (
    ("I hate {many}.", "hate"),
    ("I despise {many}.", "despise"),
    ("{many} are vermin.", "vermin"),
    ("{many} are parasites.", "parasites"),
    ("I loathe {many}.", "loathe"),
    ("{many} are filth.", "filth"),
    ("Kill all the {many}.", "kill"),
    ("{many} are subhuman.", "subhuman"),
)


def _respelt(template: str, word: str, group: Group, how: int) -> str:
    """One of several spellings of a hateful sentence: the key word changed one way, or the
    spaces dropped around it ('Ihate gaypeople'), or digits for letters in the group too."""
    sentence = _fill(template, group)
    if how < len(_WORD_CHANGES):
        _, change = _WORD_CHANGES[how]
        start = sentence.lower().index(word)
        original = sentence[start : start + len(word)]
        return sentence[:start] + change(original) + sentence[start + len(word) :]
    if how == len(_WORD_CHANGES):  # no space after the first word nor inside the group's name
        first, rest = sentence.split(" ", 1)
        for name in (group.many, _cap(group.many)):
            rest = rest.replace(name, name.replace(" ", ""))
        return first + rest
    return _leet(sentence[:-1]) + sentence[-1]


_SPELLINGS = len(_WORD_CHANGES) + 2

#: Sentences that aim a slur of the shipped word lists (`OWN_GROUP`'s) at others; each is
#: judged as written and with the slur respelt each way of `_WORD_CHANGES`.
SLUR_TEMPLATES = (
    "Get out of our town, you filthy {word}s.",
    "No {word}s welcome in this pub, ever.",
    "Another {word} moved in next door, just my luck.",
    "That {word} on the bus should go back where it came from.",
)


def _slur_cases() -> Iterator[Case]:
    for word, many in OWN_GROUP:
        for template in SLUR_TEMPLATES:
            made = (word, *(change(word) for _, change in _WORD_CHANGES))
            for slur in made:
                text = template.format(word=slur)
                yield _case("slur_variants", STOP, many, text, template, SLUR_TEMPLATES)


# --- generation ------------------------------------------------------------------------------

#: Families that must not be published, and the families that must; POLICY and HOLD families
#: are reported on their own.
STOP_FAMILIES = (
    "hate_feeling",
    "dehumanising",
    "implicit_derogation",
    "threat_to_group",
    "hate_as_question",
    "negated_positive",
    "spelling_variants",
    "slur_variants",
    "abuse_not_protected",
)
PUBLISH_FAMILIES = (
    "civil_positive",
    "identity_in_news",
    "counter_speech",
    "negated_hate",
    "abuse_of_things",
    "meta_comment",
    "ordinary_sense",
)
SEPARATE_FAMILIES = ("profanity_no_target", "own_group_slur")
#: Families whose cases name a protected group without attacking it, and those that attack one.
CIVIL_GROUP_FAMILIES = ("civil_positive", "identity_in_news", "counter_speech", "negated_hate")
#: (`slur_variants` names only the few groups of its slurs, so it stays out of the per-group
#: figures, which compare groups on the same sentences.)
HATEFUL_GROUP_FAMILIES = (
    "hate_feeling",
    "dehumanising",
    "implicit_derogation",
    "threat_to_group",
    "hate_as_question",
    "negated_positive",
    "spelling_variants",
)

_GROUP_TEMPLATES = {
    "hate_feeling": (STOP, FEELING),
    "dehumanising": (STOP, DEHUMANISING),
    "implicit_derogation": (STOP, IMPLICIT),
    "threat_to_group": (STOP, THREATS),
    "hate_as_question": (STOP, QUESTION),
    "negated_positive": (STOP, NEGATED_POSITIVE),
    "civil_positive": (PUBLISH, POSITIVE),
    "identity_in_news": (PUBLISH, NEWS),
    "counter_speech": (PUBLISH, COUNTER),
    "negated_hate": (PUBLISH, NEGATED_HATE),
}

#: The phrasings reused for one reader: the same attacks, said to or about one person.
READER_TEMPLATES = (
    "Honestly, I loathe {who}.",
    "I feel nothing but contempt for {who}.",
    "Deep down I detest {who}.",
    "{be} vermin, nothing more.",
    "{be} a parasite living off everyone else.",
    "{be} less than human.",
    "I have no respect for {who} whatsoever.",
    "Someone should teach {who} a lesson with a cricket bat.",
    "Why {be_q} so disgusting?",
    "Nothing turns my stomach like {who}.",
)


def _reader_cases() -> Iterator[Case]:
    for template in READER_TEMPLATES:
        for who, be in READERS:
            subject, verb = be.rsplit(" ", 1)
            text = _cap(template.format(who=who, be=be, be_q=f"{verb} {subject}"))
            yield _case("abuse_not_protected", STOP, None, text, template, READER_TEMPLATES)


def _case(
    family: str,
    expected: str,
    group: str | None,
    text: str,
    template: str,
    templates: Sequence[str],
) -> Case:
    """A case made from `template`, one of the list `templates`, in the split the template's
    place in its list gives it."""
    split = TEST if template in _held_out_of(tuple(templates)) else TRAIN
    return Case(family, expected, group, text, template, split)


@functools.cache
def _held_out_of(templates: tuple[str, ...]) -> frozenset[str]:
    return held_out(templates)


def _raw_cases() -> Iterator[Case]:
    for family, (expected, templates) in _GROUP_TEMPLATES.items():
        for template in templates:
            for group in GROUPS:
                text = _fill(template, group)
                yield _case(family, expected, group.many, text, template, templates)
    bases = tuple(template for template, _ in VARIANT_BASES)
    for index, group in enumerate(GROUPS):
        for offset, (template, word) in enumerate(VARIANT_BASES):
            for how in range(3):  # three of the spellings per sentence and group, rotating
                choice = (index + offset * 3 + how) % _SPELLINGS
                text = _respelt(template, word, group, choice)
                yield _case("spelling_variants", STOP, group.many, text, template, bases)
    yield from _slur_cases()
    for templates in (FEELING, DEHUMANISING, THREATS, NEGATED_POSITIVE):
        for template in templates:
            for target in OTHER_TARGETS:
                text = _fill(template, target)
                yield _case("abuse_not_protected", STOP, None, text, template, templates)
    yield from _reader_cases()
    for template in OBJECT_TEMPLATES:
        for thing in OBJECTS:
            text = _cap(template.format(thing=thing))
            yield _case("abuse_of_things", PUBLISH, None, text, template, OBJECT_TEMPLATES)
    for who in META_WHO:
        for what in META_WHAT:  # the phrasing is the template; who and where fill it
            for where in META_WHERE:
                text = f"{who} {what} {where}."
                yield _case("meta_comment", PUBLISH, None, text, what, META_WHAT)
    for frame in ORDINARY_FRAMES:
        for sentence in ORDINARY_SENSE:  # the sentence is the template; frames vary it
            text = frame.format(s=sentence if frame.startswith("{") else _lower(sentence))
            yield _case("ordinary_sense", PUBLISH, None, text, sentence, ORDINARY_SENSE)
    for frame in PROFANITY_FRAMES:
        for sentence in PROFANITY:
            text = frame.format(s=sentence)
            yield _case("profanity_no_target", POLICY, None, text, sentence, PROFANITY)
    named = {group.many: group for group in GROUPS}
    for word, many in OWN_GROUP:
        for template in OWN_GROUP_TEMPLATES:
            text = _cap(template.format(word=word, many=many, one=named[many].one))
            yield _case("own_group_slur", HOLD, many, text, template, OWN_GROUP_TEMPLATES)


def _lower(sentence: str) -> str:
    """A sentence after a lead-in: its first letter lower case, unless a name starts it."""
    return sentence if sentence.startswith("Dutch") else sentence[:1].lower() + sentence[1:]


def cases() -> list[Case]:
    """Every case, each text once (the first family to write a text keeps it), in a fixed
    order."""
    seen: set[str] = set()
    out = []
    for case in _raw_cases():
        if case.text not in seen:
            seen.add(case.text)
            out.append(case)
    return out


def split(all_cases: Sequence[Case], part: str | None) -> list[Case]:
    """The cases of one split (TRAIN or TEST; None: every case), in order."""
    if part not in (None, TRAIN, TEST):
        raise ValueError(f"no split named {part!r}: {TRAIN} or {TEST}")
    return [case for case in all_cases if part is None or case.split == part]


def sample(all_cases: Sequence[Case], per_family: int | None, seed: int) -> list[Case]:
    """At most `per_family` cases of each family, drawn with `seed` (None: every case), in the
    order of `all_cases`."""
    if per_family is None:
        return list(all_cases)
    rng = random.Random(seed)
    chosen: set[int] = set()
    by_family: dict[str, list[int]] = {}
    for index, case in enumerate(all_cases):
        by_family.setdefault(case.family, []).append(index)
    for indexes in by_family.values():
        chosen.update(rng.sample(indexes, min(per_family, len(indexes))))
    return [case for index, case in enumerate(all_cases) if index in chosen]


def write(path: Path, part: str | None = None) -> int:
    """The cases of a split (None: all) as JSON lines (family, expected, group, measure, text,
    template, split), as `rejoinder moderation eval` reads them; returns how many."""
    every = split(cases(), part)
    path.write_text("".join(case.to_json() + "\n" for case in every), encoding="utf-8")
    return len(every)
