#!/usr/bin/env python3
"""The functional families of `training/fairness.py` judged by the real pipeline, as
`rejoinder moderation check` and `moderation eval` judge a new comment (`Moderator.check`:
every phase, the default site's policy, the shipped model): accuracy overall and per family,
per group the hold rate of civil sentences naming it and the recall of hateful ones, the
spread of civil hold rates across groups, and the families reported on their own (profanity
that attacks nobody, a slur said of one's own group). By default only the held-out cases are
judged (`--split test`: templates that nothing is trained or tuned on); `--split train` judges
the rest and `--split all` every case. The last line is one JSON object."""

from __future__ import annotations

import argparse
import collections
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # `training` is a folder of the repository, not installed

from training import fairness  # noqa: E402
from training.fairness import HOLD, POLICY, PUBLISH, STOP, Case  # noqa: E402


@dataclass(frozen=True)
class Judged:
    case: Case
    verdict: str  # publish, hold or refuse
    reasons: tuple[str, ...]

    @property
    def stopped(self) -> bool:
        return self.verdict != "publish"

    @property
    def right(self) -> bool:
        if self.case.expected == STOP:
            return self.stopped
        if self.case.expected == PUBLISH:
            return not self.stopped
        if self.case.expected == HOLD:
            return self.verdict == "hold"
        raise ValueError(f"no right answer for {self.case.expected}")


def judge(
    cases: Sequence[Case], preset: str | None, profanity: str = "hold", blind: bool = False
) -> tuple[list[Judged], str | None]:
    """Each case as a new comment on the default site of a fresh database, with the
    shipped model (reading each group's name replaced when `blind`, the server's
    `moderation_blind_groups`) and the site policy's `profanity` setting; and the preset
    whose thresholds judged."""
    from dataclasses import replace

    from rejoinder.core.moderation import Profanity
    from rejoinder.runtime import model_presets, open_runtime, utcnow
    from rejoinder.settings import load_settings
    from rejoinder.usecases.policy import read_rules, save_rules

    out = []
    with tempfile.TemporaryDirectory() as folder:
        settings = load_settings(
            database_url=f"sqlite:///{folder}/fairness.db",
            moderation=True,
            moderation_model=True,
            moderation_blind_groups=blind,
            redis_url=None,
        )
        runtime = open_runtime(settings, migrate=True)
        try:
            moderator = runtime.moderator
            assert moderator is not None
            site_id = runtime.site_named("default").id
            now = utcnow()
            if profanity != "hold":
                rules = read_rules(runtime.db, site_id, model_presets())
                policy = replace(rules.policy, profanity=Profanity(profanity))
                save_rules(
                    runtime.db,
                    site_id,
                    replace(rules, policy=policy),
                    actor_kind="system",
                    actor="eval_fairness",
                    now=now,
                    presets=model_presets(),
                )
            used = moderator.policy(site_id, preset).model_preset
            moderator.prepare()
            for case in cases:
                judgement = moderator.check(
                    site_id=site_id,
                    text=case.text,
                    name="",
                    email="",
                    website="",
                    now=now,
                    preset=preset,
                )
                decision = judgement.decision
                reasons = tuple(reason.code for reason in decision.reasons)
                out.append(Judged(case, decision.verdict.value, reasons))
        finally:
            runtime.close()
    return out, used


def judge_with_weights(
    cases: Sequence[Case],
    weights: Path,
    preset: str | None,
    profanity: str = "hold",
    blind: bool = False,
) -> tuple[list[Judged], str]:
    """Each case judged by the pipeline's phases (`decide`, as `training/eval_pipeline.py`
    judges) with the model of another weights folder, at its preset's thresholds: for a
    candidate that does not ship yet."""
    from rejoinder.classifier.model import Classifier
    from rejoinder.core.moderation import ArticleRef, Policy, Profanity, Submission, decide
    from rejoinder.core.moderation.phases.model_scores import scores_from
    from rejoinder.runtime import model_thresholds, utcnow

    classifier = Classifier.load(weights=weights, blind_groups=blind)
    used = preset or classifier.preset
    policy = Policy(
        thresholds=model_thresholds(weights, used),
        model_preset=used,
        profanity=Profanity(profanity),
    )
    now = utcnow()
    out = []
    for case in cases:
        scores = scores_from(classifier.score(case.text, preset=used), case.text)
        sub = Submission(
            text=case.text,
            name="",
            email="",
            article=ArticleRef(0, True, None),
            now=now,
            via_form=False,
            model_scores=scores,
        )
        decision = decide(sub, policy)
        reasons = tuple(reason.code for reason in decision.reasons)
        out.append(Judged(case, decision.verdict.value, reasons))
    return out, used


def report(judged: Sequence[Judged]) -> dict[str, Any]:
    """Every figure of the evaluation, from judged cases (`core/moderation/fairness.py`
    computes them, as for `rejoinder moderation eval`)."""
    from rejoinder.core.moderation.fairness import JudgedCase, figures

    result = figures(
        [
            JudgedCase(j.case.family, j.case.expected, j.case.group, j.case.measure, j.verdict)
            for j in judged
        ]
    )
    # The reasons are counted here, with the family's own sense of "civil".
    civil = [j for j in judged if j.case.family in fairness.CIVIL_GROUP_FAMILIES]
    reasons = collections.Counter(r for j in civil if j.stopped for r in j.reasons)
    result["civil_hold_reasons"] = dict(reasons.most_common(8))
    families = fairness.STOP_FAMILIES + fairness.PUBLISH_FAMILIES
    result["accuracy_by_family"] = {f: result["accuracy_by_family"].get(f) for f in families}
    groups = [g.many for g in fairness.GROUPS]
    for key in ("civil_hold_by_group", "hateful_recall_by_group"):
        result[key] = {g: result[key].get(g) for g in groups}
    profanity = [j for j in judged if j.case.expected == POLICY]
    own = [j for j in judged if j.case.family == "own_group_slur"]
    result["profanity_no_target"] = {
        "cases": len(profanity),
        "held_or_refused": _rate([j.stopped for j in profanity]),
    }
    result["own_group_slur"] = {
        "cases": len(own),
        "held": _rate([j.verdict == "hold" for j in own]),
        "refused": _rate([j.verdict == "refuse" for j in own]),
        "published": _rate([j.verdict == "publish" for j in own]),
    }
    return result


def _rate(values: Sequence[bool]) -> float | None:
    return round(sum(values) / len(values), 4) if values else None


def _figure(value: float | None) -> str:
    return "  n/a" if value is None else f"{value:.3f}"


def lines(figures: dict[str, Any], judged: Sequence[Judged], examples: int) -> list[str]:
    """The report as text: overall, per family (with a few wrong cases), per group."""
    out = [
        f"split {figures['split']}  preset {figures['preset']}"
        f"{'  names blind' if figures['blind_groups'] else ''}  cases {figures['cases']} "
        f"(scored {figures['scored_cases']})  {figures['seconds']:.1f} s",
        f"accuracy {_figure(figures['accuracy'])}  civil hold rate "
        f"{_figure(figures['civil_hold_rate'])}  hateful recall "
        f"{_figure(figures['hateful_recall'])}  civil hold spread across groups "
        f"{_figure(figures['civil_hold_spread'])}  lowest group recall "
        f"{_figure(figures['min_group_recall'])}",
        "",
        "family                 expected  accuracy  cases",
    ]
    for family, value in figures["accuracy_by_family"].items():
        members = [j for j in judged if j.case.family == family]
        expected = members[0].case.expected if members else ""
        out.append(f"{family:<22} {expected:<9} {_figure(value):>8}  {len(members):>5}")
        wrong = [j for j in members if not j.right]
        wrong = wrong[:: max(1, len(wrong) // examples)][:examples] if examples else []
        out += [f"    wrong: {j.verdict} {list(j.reasons)} {j.case.text}" for j in wrong]
    prof, own = figures["profanity_no_target"], figures["own_group_slur"]
    out += [
        "",
        f"profanity_no_target (the site's policy decides; not in accuracy): held or refused "
        f"{_figure(prof['held_or_refused'])} of {prof['cases']}",
        f"own_group_slur (expected: held for a moderator): held {_figure(own['held'])}, "
        f"refused {_figure(own['refused'])}, published {_figure(own['published'])} "
        f"of {own['cases']}",
        "",
        "group                         kind         civil held  hateful recall",
    ]
    kinds = {g.many: g.kind for g in fairness.GROUPS}
    for group, held in figures["civil_hold_by_group"].items():
        recall = figures["hateful_recall_by_group"][group]
        out.append(f"{group:<29} {kinds[group]:<12} {_figure(held):>10}  {_figure(recall):>14}")
    out += [
        "",
        "worst families: " + ", ".join(figures["worst_families"]),
        "reasons for civil holds: "
        + ", ".join(f"{k} {v}" for k, v in figures["civil_hold_reasons"].items()),
    ]
    return out


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--sample", type=int, help="at most this many cases of each family (default: all)"
    )
    parser.add_argument("--seed", type=int, default=22, help="the seed of the sample")
    parser.add_argument("--preset", help="judge with this model preset (default: the site's)")
    parser.add_argument(
        "--examples", type=int, default=2, help="wrong cases shown per family (default 2)"
    )
    parser.add_argument(
        "--profanity",
        choices=["hold", "publish"],
        default="hold",
        help="the site policy's setting for profanity that attacks nobody (default: hold)",
    )
    parser.add_argument(
        "--blind",
        action="store_true",
        help="the model reads each group's name replaced (the moderation_blind_groups setting)",
    )
    parser.add_argument(
        "--weights",
        type=Path,
        help="judge with the model of this weights folder (a candidate), by the phases alone",
    )
    parser.add_argument(
        "--split",
        choices=[fairness.TEST, fairness.TRAIN, "all"],
        default=fairness.TEST,
        help="which cases to judge (default: test, the held-out templates)",
    )
    parser.add_argument(
        "--cases", type=Path, help="also write the split's cases here, as JSON lines"
    )
    args = parser.parse_args(argv)
    if args.sample is not None and args.sample < 1:
        parser.error("--sample must be at least 1")
    if args.preset is not None:
        from rejoinder.runtime import model_presets
        from rejoinder.usecases.policy import check_preset

        try:
            check_preset(model_presets(), args.preset)
        except ValueError as error:
            parser.error(str(error))
    every = fairness.cases()
    part = None if args.split == "all" else args.split
    if args.cases:
        fairness.write(args.cases, part)
    chosen = fairness.sample(fairness.split(every, part), args.sample, args.seed)
    started = time.perf_counter()
    preset: str | None
    if args.weights:
        judged, preset = judge_with_weights(
            chosen, args.weights, args.preset, args.profanity, args.blind
        )
    else:
        judged, preset = judge(chosen, args.preset, args.profanity, args.blind)
    figures = {"split": args.split, "preset": preset, "blind_groups": args.blind, **report(judged)}
    figures["weights"] = str(args.weights) if args.weights else None
    figures["profanity"] = args.profanity
    figures["seconds"] = round(time.perf_counter() - started, 1)
    figures["sample_per_family"] = args.sample
    figures["seed"] = args.seed if args.sample is not None else None
    for line in lines(figures, judged, args.examples):
        print(line)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
