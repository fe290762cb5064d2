"""A policy's stored form: the one schema (`PolicySettings`) that the stored settings, the admin
API, the desk's form and the CLI read, its round trip to the core's `Policy`, and how a site
without thresholds of its own gets its model preset's."""

from __future__ import annotations

import json
import re

import pytest

from rejoinder.core.moderation.models import Action, Mode, Policy, Threshold
from rejoinder.runtime import model_presets
from rejoinder.usecases.policy import effective_policy, stored_policy
from rejoinder.usecases.policy_schema import (
    PLAIN_FIELDS,
    PolicySettings,
    desk_limits,
    read_policy_settings,
)


def read_policy(stored: dict[str, object]) -> Policy:
    return read_policy_settings(stored).to_policy()


def test_policy_round_trips_through_json() -> None:
    policy = Policy(
        mode=Mode.PREMODERATE_LINKS,
        thresholds={"insult": Threshold(0.6), "threat": Threshold(0.5, refuse=0.9)},
        flood_seconds=None,
        link_limit=1,
        pattern_actions={"shouting": Action.HOLD},
        hold_words={"local": ("wombat", "numpty")},
        refuse_words={},
        shortener_domains=("bit.ly",),
    )
    stored = json.dumps(stored_policy(policy))
    assert read_policy_settings(json.loads(stored)).to_policy() == policy
    default = json.loads(json.dumps(stored_policy(Policy())))
    assert read_policy_settings(default).to_policy() == Policy()


def test_a_stored_policy_may_leave_settings_out() -> None:
    policy = read_policy({"link_limit": 4, "thresholds": {"insult": 0.6}})
    assert policy.link_limit == 4
    assert policy.flood_seconds == 15
    assert policy.thresholds == {"insult": Threshold(0.6)}


@pytest.mark.parametrize(
    ("stored", "complaint"),
    [
        ({"link_limt": 3}, "unknown moderation policy settings: link_limt"),
        (
            {"thresholds": {"insult": {"hold": 0.9, "refuse": 0.5}}},
            "thresholds.insult: need 0 <= hold <= refuse <= 1",
        ),
        ({"per_minute": -1}, "per_minute: must be"),
        ({"mode": "sometimes"}, "mode: Input should be 'post_moderate'"),
    ],
)
def test_a_bad_stored_policy_is_an_error(stored: dict[str, object], complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint):
        read_policy(stored)


def test_a_policy_keeps_either_a_model_preset_or_its_own_thresholds() -> None:
    preset = Policy(thresholds={"insult": Threshold(0.6)}, model_preset="light")
    stored = stored_policy(preset)
    assert stored["model_preset"] == "light"
    assert "thresholds" not in stored  # the preset's thresholds are the model's, not stored
    assert read_policy(stored).model_preset == "light"
    own = Policy(thresholds={"insult": Threshold(0.6)})
    assert "model_preset" not in stored_policy(own)
    assert read_policy(stored_policy(own)) == own


@pytest.mark.parametrize(
    ("stored", "complaint"),
    [
        ({"model_preset": "light", "thresholds": {"insult": 0.6}}, "not both"),
        ({"model_preset": "Light!"}, "model_preset: must be"),
        ({"model_preset": 3}, "model_preset: must be"),
        ({"model_preset": ""}, "model_preset: must be"),
    ],
)
def test_a_bad_model_preset_is_an_error(stored: dict[str, object], complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint):
        read_policy(stored)


def test_a_site_without_thresholds_of_its_own_gets_its_presets() -> None:
    presets = model_presets()
    assert presets.default == "standard"
    default = effective_policy({}, presets)
    assert default.model_preset == "standard"
    assert default.thresholds == presets.thresholds["standard"]
    light = effective_policy({"model_preset": "light", "link_limit": 1}, presets)
    assert (light.model_preset, light.link_limit) == ("light", 1)
    assert light.thresholds == presets.thresholds["light"]
    # a preset a later model no longer ships: the default's, until someone chooses again
    gone = effective_policy({"model_preset": "retired"}, presets)
    assert gone.model_preset == "standard"
    own = effective_policy({"thresholds": {"insult": 0.5}}, presets)
    assert own.model_preset is None
    assert own.thresholds == {"insult": Threshold(0.5)}
    # without the model, a policy's thresholds mean nothing to fill in
    assert effective_policy({}, None).model_preset is None


def test_the_settings_defaults_are_the_core_policys() -> None:
    default = Policy()
    settings = PolicySettings()
    for name in PLAIN_FIELDS:
        assert getattr(settings, name) == getattr(default, name), name
    assert settings.mode is default.mode


def test_the_desk_limits_come_from_the_schema_with_their_bounds() -> None:
    limits = desk_limits()
    assert limits["link_limit"] == (
        "Link limit",
        "More links than this hold a comment (0: any link holds)",
        0,
        1000,
    )
    assert limits["close_after_days"][2:] == (1, 36500)
    assert set(limits) < set(PLAIN_FIELDS)


@pytest.mark.parametrize(
    ("stored", "complaint"),
    [
        ({"per_minute": 2.5}, "per_minute: must be a whole number from 0 to 10000"),
        ({"per_minute": True}, "per_minute: must be a whole number"),
        ({"trust_margin": "0.2"}, "trust_margin: Input should be a valid number"),
        ({"refuse_words": ["..."]}, "refuse_words: '...' cannot be matched"),
        ({"hold_words": {"local": ["x" * 201]}}, "cannot be matched"),
        ({"thresholds": {"insult": "high"}}, "a threshold is a number or {hold, refuse}"),
        ({"pattern_actions": {"threat": "explode"}}, "pattern_actions.threat"),
    ],
)
def test_a_setting_of_the_wrong_type_or_size_is_named(
    stored: dict[str, object], complaint: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(complaint)):
        read_policy_settings(stored)


def test_shortener_domains_are_kept_in_lower_case() -> None:
    policy = read_policy({"shortener_domains": ["Bit.LY"]})
    assert policy.shortener_domains == ("bit.ly",)
