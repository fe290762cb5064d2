"""`rejoinder moderation eval` given functional cases (`training/fairness.py`'s JSON lines):
the figures per family and per group, as `scripts/eval_fairness.py` prints them."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import Databases, cli
from training import fairness

MODEL_ON = {"REJOINDER_MODERATION": "true", "REJOINDER_MODERATION_MODEL": "true"}


def _case(family: str, expected: str, group: str | None, measure: str | None, text: str) -> str:
    return json.dumps(
        {"family": family, "expected": expected, "group": group, "measure": measure, "text": text}
    )


def test_eval_of_functional_cases_prints_each_family_and_group(
    databases: Databases, tmp_path: Path
) -> None:
    url = databases.new()
    path = tmp_path / "cases.jsonl"
    lines = [
        _case("civil_positive", "publish", "Sikhs", "civil", "Sikhs run the bakery on Mill Lane."),
        _case("civil_positive", "publish", "Poles", "civil", "Poles run the cafe by the station."),
        _case(
            "threat_to_group",
            "stop",
            "Sikhs",
            "hateful",
            "Every one of those Sikhs should be shot.",
        ),
        _case(
            "threat_to_group",
            "stop",
            "Poles",
            "hateful",
            "Every one of those Poles should be shot.",
        ),
        _case("profanity_no_target", "policy", None, None, "Damn, the bus was late again."),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    done = cli("moderation", "eval", str(path), db_url=url, env=MODEL_ON)
    out = done.stdout.splitlines()
    figures = json.loads(out[-1])
    assert figures["cases"] == 5 and figures["scored_cases"] == 4
    assert set(figures["accuracy_by_family"]) == {"civil_positive", "threat_to_group"}
    assert figures["accuracy_by_family"]["threat_to_group"] == 1.0
    assert figures["accuracy_by_family"]["civil_positive"] == 1.0
    assert figures["hateful_recall_by_group"] == {"Sikhs": 1.0, "Poles": 1.0}
    assert figures["civil_hold_by_group"] == {"Sikhs": 0.0, "Poles": 0.0}
    assert figures["civil_hold_spread"] == 0.0
    assert sum(figures["verdicts_by_family"]["profanity_no_target"].values()) == 1
    assert any(line.startswith("family ") for line in out)
    assert any(line.startswith("threat_to_group ") and " 1.000 " in line for line in out)
    assert any(line.startswith("Poles ") for line in out)


def test_blind_to_names_the_same_praise_of_two_groups_gets_the_same_verdict(
    databases: Databases, tmp_path: Path
) -> None:
    """As shipped, the model weighs some groups' names themselves: praise of one group is
    held and the same praise of another published. With `moderation_blind_groups` the model
    reads neither name, and both are published; the attack is still stopped."""
    path = tmp_path / "cases.jsonl"
    lines = [
        _case("civil_positive", "publish", group, "civil", f"{group} are a gift to this city.")
        for group in ("Jewish people", "Buddhists")
    ] + [
        _case("dehumanising", "stop", group, "hateful", f"{group} are vermin.")
        for group in ("Jewish people", "Buddhists")
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    as_shipped = cli("moderation", "eval", str(path), db_url=databases.new(), env=MODEL_ON)
    figures = json.loads(as_shipped.stdout.splitlines()[-1])
    assert figures["civil_hold_by_group"] == {"Jewish people": 1.0, "Buddhists": 0.0}
    assert figures["blind_groups"] is False
    blind = {**MODEL_ON, "REJOINDER_MODERATION_BLIND_GROUPS": "true"}
    done = cli("moderation", "eval", str(path), db_url=databases.new(), env=blind)
    figures = json.loads(done.stdout.splitlines()[-1])
    assert figures["blind_groups"] is True
    assert "moderation_blind_groups" in done.stdout
    assert figures["civil_hold_by_group"] == {"Jewish people": 0.0, "Buddhists": 0.0}
    assert figures["civil_hold_spread"] == 0.0
    assert figures["hateful_recall_by_group"] == {"Jewish people": 1.0, "Buddhists": 1.0}


def test_eval_reads_the_cases_the_fairness_script_writes(
    databases: Databases, tmp_path: Path
) -> None:
    path = tmp_path / "test.jsonl"
    written = fairness.write(path, fairness.TEST)
    first = json.loads(path.read_text(encoding="utf-8").splitlines()[0])
    assert {"family", "expected", "group", "measure", "text", "split"} <= set(first)
    assert written == len(fairness.split(fairness.cases(), fairness.TEST))
    few = tmp_path / "few.jsonl"
    few.write_text("\n".join(path.read_text(encoding="utf-8").splitlines()[:3]) + "\n")
    done = cli("moderation", "eval", str(few), db_url=databases.new(), env=MODEL_ON)
    assert json.loads(done.stdout.splitlines()[-1])["cases"] == 3


def test_eval_names_the_line_of_a_wrong_case_or_a_mixed_file(
    databases: Databases, tmp_path: Path
) -> None:
    url = databases.new()
    wrong = tmp_path / "wrong.jsonl"
    wrong.write_text(
        _case("civil_positive", "publish", None, None, "Fine.")
        + "\n"
        + _case("civil_positive", "maybe", None, None, "Fine too.")
        + "\n"
    )
    failed = cli("moderation", "eval", str(wrong), db_url=url, env=MODEL_ON, check=False)
    assert failed.returncode == 1
    assert f"{wrong}:2:" in failed.stderr and "expected" in failed.stderr
    mixed = tmp_path / "mixed.jsonl"
    mixed.write_text(
        json.dumps({"text": "Fine.", "label": 0})
        + "\n"
        + _case("civil_positive", "publish", None, None, "Fine too.")
        + "\n"
    )
    failed = cli("moderation", "eval", str(mixed), db_url=url, env=MODEL_ON, check=False)
    assert failed.returncode == 1
    assert f"{mixed}:2:" in failed.stderr and "mixed" in failed.stderr
