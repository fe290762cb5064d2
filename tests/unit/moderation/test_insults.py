"""The insults phase: a person called names, and criticism of ideas that is not an insult.

The rows are written for these tests. A comment that criticises an argument, a decision or
a public figure's acts is published ("your argument is stupid", "the president is a liar");
one that calls the person addressed, or a named person, an insulting name is held.
"""

from __future__ import annotations

import pytest

from rejoinder.core.moderation.matching.folding import fold
from rejoinder.core.moderation.models import Action, Policy, Verdict
from rejoinder.core.moderation.phases import insults
from rejoinder.core.moderation.policy import decide
from tests.unit.moderation.submissions import submission

INSULTS = [
    # comparison put-downs
    "You've got the attention span of a goldfish on holiday.",
    "Only somebody with the common sense of a traffic cone would vote for that.",
    "You're a vile, hateful little creature.",
    "Honestly the author is a complete and utter imbecile.",
    "Sit down and shut up, you overgrown toddler.",
    "You're dumber than a sack of hammers.",
    "What kind of moron writes this?",
    "You couldn't think your way out of a paper bag.",
    "Every time you post, the average IQ of this thread drops.",
    "People like you are a waste of skin.",
    "You clearly have the reading age of a six year old.",
    "Oh look, the resident idiot is back.",
    "You're a sad case, mate.",
    "Shut your mouth, you ignorant peasant.",
    "He's a spineless worm of a man.",
    "You're pathetic and everyone here knows it.",
    "You're a disgrace to journalism, you hack.",
    "Piss off back to your echo chamber, loser.",
    "The minister is a gormless buffoon.",
    "Get a brain, moron.",
    "You must be the stupidest person alive.",
    "You're a sad little man with nothing better to do.",
    "Honestly, you are the thickest poster on this site.",
    "Sit down, you pompous windbag.",
    "People like you shouldn't be allowed to vote.",
    "What a spineless creep you are.",
    "The columnist is a smug, talentless hack.",
    "You have the brains of a garden gnome.",
    "Is there anything going on between your ears at all?",
    "The mayor is a corrupt little weasel.",
    "Typical moronic comment from a typical moron.",
    "Listen here, you ignorant clown.",
    "You must have been dropped on your head as a child.",
    "You're a coward hiding behind a keyboard.",
    "The author is a brain-dead propagandist.",
    "Nobody cares about your opinion, you bitter old crank.",
    "You utter buffoon.",
    "Go back to your cave, neanderthal.",
    "You write like a drunk toddler.",
    "You're a walking advert for birth control.",
    "This guy is a total tool.",
    "Your mother must be so proud of her idiot son.",
    "Keep it up, dimwit.",
    "You absolute melt.",
    "The presenter is an overpaid airhead.",
    "You are a pathetic little troll.",
    "People like you are morons.",
    "Shut up, you snivelling crybaby.",
    "What a clueless dimwit.",
    "The columnist is a hysterical cow.",
    "You're about as sharp as a bowling ball.",
    "Go back under your bridge, troll.",
    "You have the intellect of a damp sponge.",
    "Only a brainless muppet would believe this.",
    "Your mother should have raised you better.",
    "You're too thick to understand the article.",
    "Are you really this dense?",
    "Hey Einstein, read the article first.",
    "Ur a loser and everyone knows it.",
    "You absolute walnut.",
    "You sad, bitter little man.",
    "What a gormless twit you are.",
    "These people are brain-dead sheep.",
    "Nobody cares what a sad little creep like you thinks.",
    "You're a festering boil on this thread.",
    "Y0u are a pathetic l0ser.",
    "You're a p a t h e t i c little troll.",
]

NOT_INSULTS = [
    "The old mill has the charm of a place nobody has touched in a century.",
    "The lake has the depth of a small cathedral at its deepest point.",
    "She writes with the wit of someone who has read everything.",
    "Your figures are wrong and the article proves it.",
    "That's a weak argument, the study had twenty participants.",
    "The minister's speech was pathetic, full of empty promises.",
    "The council's plan is idiotic and will cost millions.",
    "You're wrong on the timeline, the bridge opened in 1998.",
    "I disagree completely, but thanks for posting.",
    "The president is a liar and a fraud, as the court found.",
    "This columnist writes the same article every week.",
    "You are clearly passionate about this, and I respect that.",
    "He's a shrewd operator, you have to admit.",
    "You're a natural, keep writing.",
    "The villain is a cowardly worm in the book, that's the point.",
    "She called the plan idiotic in her speech.",
    "What kind of person thinks this is a good policy?",
    "Is it me or is this paper getting thinner every week?",
    "You couldn't pay me to live in the city centre.",
    "People like you make this comment section worth reading.",
    "The average IQ test is a poor measure of intelligence.",
    "You're a saint for putting up with the roadworks.",
    "Your argument is stupid and the figures prove it.",
    "You are wrong about the dates, check the report.",
    "That is a ridiculous policy that will hurt families.",
    "The president is a liar and the record shows it.",
    "The minister's decision was idiotic.",
    "I think you're mistaken, the survey covered five cities.",
    "This article is lazy journalism.",
    "The council's plan is a joke.",
    "The referee was a disgrace tonight.",
    "You're absolutely right about the bus routes.",
    "You are a star for organising the fete.",
    "What a legend, running the marathon at 90.",
    "You're a genius, thank you for fixing the website.",
    "The comedian is a clown in the best sense, brilliant show.",
    "The villain in the film is a slimy weasel of a man.",
    "I'm such a fool, I left my wallet at home.",
    "The senator called his rival a coward during the debate.",
    "The judge described the defendant as a dangerous fool.",
    "You're too kind, thanks for the tip.",
    "You sound like my dad, he says the same thing.",
    "You look like you've seen a ghost.",
    "You're mad if you think the trains will run on time.",
    "That's a stupid question, but I'll answer it anyway.",
    "Your argument is stupid.",
    "You are wrong.",
    "Your comment makes no sense to me.",
    "The plan is stupid and the council knows it.",
    "That was a stupid thing for the board to do.",
    "This is the dumbest policy of the decade.",
    "You're not an idiot, you just haven't read the report.",
    "The minister lied to parliament.",
    "The president is a liar, and a hypocrite too.",
    "Thanks mate, that's really helpful.",
    "You lucky dog, I wish I'd been there.",
    "You old devil, congratulations on the award.",
    "What a joke this budget is.",
    "You sound tired, take a break.",
    "The senator described his opponent as a coward.",
    '"An idiot\'s guide to the budget" is a good read.',
    "What a fool I was to trust the forecast.",
    "People like you make this town a better place.",
    "The mayor is a lovely old man.",
    "You're a star, thank you.",
]


def found(text: str) -> list[str]:
    return [span.text for span in insults.find_insults(fold(text))]


@pytest.mark.parametrize("text", INSULTS)
def test_insults_are_held(text: str) -> None:
    decision = decide(submission(text=text))
    assert decision.verdict is Verdict.HOLD, text
    assert {s.code for s in decision.reasons} & {"insult", "insult_phrase"}, decision.reasons


@pytest.mark.parametrize("text", NOT_INSULTS)
def test_criticism_and_kind_words_are_not_insults(text: str) -> None:
    assert found(text) == [], text


def test_the_signal_quotes_the_insult() -> None:
    text = "Honestly, you are a pathetic little troll."
    [signal] = insults.check(submission(text=text), Policy())
    assert (signal.phase, signal.code, signal.action) == ("insults", "insult_phrase", Action.HOLD)
    assert signal.message == 'it insults someone: "you are a pathetic little troll"'
    [span] = signal.spans
    assert text[span.start : span.end] == span.text


def test_an_insult_on_the_word_list_is_one_reason_not_two() -> None:
    decision = decide(submission(text="You are an idiot."))
    assert [s.code for s in decision.reasons] == ["insult"]
    assert found("You are an idiot.") == ["You are an idiot"]
    assert insults.check(submission(text="You are an idiot."), Policy()) == []


def test_a_site_list_without_the_word_leaves_the_insult_to_this_phase() -> None:
    policy = Policy(hold_words={"insult": ("moron",)})
    [signal] = insults.check(submission(text="You are an idiot."), policy)
    assert signal.code == "insult_phrase"


def test_a_site_may_refuse_insults() -> None:
    policy = Policy(pattern_actions={"insult_phrase": Action.REFUSE})
    decision = decide(submission(text="You spineless little weasel."), policy)
    assert decision.verdict is Verdict.REFUSE
