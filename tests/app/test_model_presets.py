"""The shipped model's presets with the model on: what the desk and the admin API show and
store, what a site's choice does to a real post, and `moderation check/eval --preset`."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import lxml.html
import pytest

from tests import RELAXED
from tests.app.test_policy_desk import Desk, form_of, open_desk
from tests.conftest import ROOT, Databases, cli, rejoinder

WEIGHTS = ROOT / "src" / "rejoinder" / "classifier" / "weights" / "meta.json"
MODEL_ON = {"REJOINDER_MODERATION": "true", "REJOINDER_MODERATION_MODEL": "true"}


def shipped() -> dict[str, Any]:
    return dict(json.loads(WEIGHTS.read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def desk(databases: Databases) -> Iterator[Desk]:
    yield from open_desk(databases, MODEL_ON)


def _save(client: httpx.Client, form: dict[str, str]) -> httpx.Response:
    return client.post("/admin/policy", data=form)


def test_the_desk_shows_the_presets_thresholds_and_stores_a_presets_name(desk: Desk) -> None:
    meta = shipped()
    desk.set_policy(**RELAXED)
    with desk.login("admin") as admin:
        form, page = form_of(admin.get("/admin/policy").text)
        # A site that never chose: the default preset, and its thresholds in the fields,
        # not the pure core's uncalibrated starting points.
        assert form["model_preset"] == meta["preset"] == "standard"
        standard = meta["presets"]["standard"]["thresholds"]
        assert float(form["hold_insult"]) == standard["insult"]["hold"]
        assert float(form["hold_spam"]) == standard["spam"]["hold"]
        labels = " ".join(page.xpath('//input[@name="model_preset"]/parent::label/text()'))
        assert "Light" in labels and "Own thresholds" in labels
        # Saving another setting keeps the preset by name, with no thresholds stored.
        assert _save(admin, {**form, "link_limit": "1"}).status_code == 303
        stored = desk.settings()["policy"]
        assert stored["model_preset"] == "standard" and "thresholds" not in stored
        assert stored["link_limit"] == 1

        # Choosing "light" on a page that still shows the standard preset's values is fine
        # without JavaScript; the page then shows the light preset's.
        form, _ = form_of(admin.get("/admin/policy").text)
        assert _save(admin, {**form, "model_preset": "light"}).status_code == 303
        assert desk.settings()["policy"]["model_preset"] == "light"
        form, _ = form_of(admin.get("/admin/policy").text)
        light = meta["presets"]["light"]["thresholds"]
        assert form["model_preset"] == "light"
        assert float(form["hold_insult"]) == light["insult"]["hold"]

        # A threshold typed over a preset's is not silently dropped: the form comes back.
        before = desk.settings()
        typed = {**form, "model_preset": "standard", "hold_insult": "0.5"}
        response = _save(admin, typed)
        assert response.status_code == 422
        page = lxml.html.fromstring(response.text)
        error = " ".join(page.xpath('//*[@id="model_preset-error"]//text()'))
        assert "Own thresholds" in error, response.text[:2000]
        assert desk.settings() == before

        # "Own thresholds": the values as typed, and no preset.
        assert _save(admin, {**typed, "model_preset": "own"}).status_code == 303
        stored = desk.settings()["policy"]
        assert "model_preset" not in stored
        assert stored["thresholds"]["insult"]["hold"] == 0.5
        form, _ = form_of(admin.get("/admin/policy").text)
        assert form["model_preset"] == "own" and form["hold_insult"] == "0.5"

        # An unknown preset sent by hand is an error beside the choice.
        response = _save(admin, {**form, "model_preset": "extreme"})
        assert response.status_code == 422
        assert "presets" in " ".join(
            lxml.html.fromstring(response.text).xpath('//*[@id="model_preset-error"]//text()')
        )


def test_the_admin_api_sets_a_preset_and_refuses_an_unknown_one(desk: Desk) -> None:
    meta = shipped()
    desk.set_policy(**RELAXED)
    api = f"{desk.url}/api/v1/admin/policy"
    admin = {"Authorization": f"Bearer {desk.token}"}
    body = desk.app.get(api, headers=admin, timeout=10).json()
    assert body["policy"]["model_preset"] == "standard"
    assert body["model_presets"]["default"] == "standard"
    assert set(body["model_presets"]["presets"]) == {"light", "standard"}
    assert (
        body["thresholds_in_effect"]["insult"]["hold"]
        == (meta["presets"]["standard"]["thresholds"]["insult"]["hold"])
    )
    before = desk.settings()
    for bad in (
        {"model_preset": "extreme"},
        {"model_preset": "standard", "thresholds": {"insult": 0.5}},
    ):
        wrong = desk.app.put(api, headers=admin, json={"policy": {**RELAXED, **bad}}, timeout=10)
        assert wrong.status_code == 422, wrong.text
        assert set(wrong.json()) == {"error", "field", "message"}
        assert wrong.json()["field"].startswith("policy")
    assert desk.settings() == before
    put = desk.app.put(
        api, headers=admin, json={"policy": {**RELAXED, "model_preset": "light"}}, timeout=10
    )
    assert put.status_code == 200, put.text
    assert put.json()["policy"]["model_preset"] == "light"
    assert (
        put.json()["thresholds_in_effect"]["identity_attack"]["hold"]
        == (meta["presets"]["light"]["thresholds"]["identity_attack"]["hold"])
    )
    assert desk.settings()["policy"]["model_preset"] == "light"


def _verdicts(texts: list[str], preset: str, db_url: str) -> list[str]:
    lines = "".join(json.dumps({"text": t}) + "\n" for t in texts)
    done = cli("moderation", "check", "--preset", preset, db_url=db_url, input=lines)
    return [json.loads(line)["verdict"] for line in done.stdout.splitlines()]


def test_a_comment_only_the_standard_preset_holds_is_held_or_published_by_the_sites_choice(
    desk: Desk,
) -> None:
    rows = [
        json.loads(line)
        for line in (ROOT / "data" / "labelled" / "test.jsonl").read_text().splitlines()
    ]
    texts = [r["text"] for r in rows if r["label"] == 1][:150]
    url = desk.app.db_url
    standard, light = _verdicts(texts, "standard", url), _verdicts(texts, "light", url)
    assert len(standard) == len(light) == len(texts)
    between = [t for t, s, g in zip(texts, standard, light, strict=True) if s != g]
    held = [
        t for t, s, g in zip(texts, standard, light, strict=True) if (s, g) == ("hold", "publish")
    ]
    # The light preset holds later: what it holds, the standard one holds too (here).
    assert held and len(held) == len(between), between
    assert sum(v != "publish" for v in standard) > sum(v != "publish" for v in light)

    slug = str(desk.app.publish()["slug"])
    path = f"{desk.url}/api/v1/articles/{slug}/comments"
    for preset, status in (("light", 201), ("standard", 202)):
        desk.set_policy(**RELAXED, model_preset=preset)
        sent = {"body": held[0], "name": "Pat", "email": f"pat-{uuid.uuid4().hex[:6]}@example.org"}
        response = desk.app.post(path, json=sent, timeout=30)
        assert response.status_code == status, (preset, response.text)


def test_eval_and_check_name_the_preset_and_refuse_an_unknown_one(
    desk: Desk, tmp_path: Any
) -> None:
    url = desk.app.db_url
    rows = tmp_path / "rows.jsonl"
    rows.write_text(
        json.dumps({"text": "You are a worthless idiot.", "label": 1, "cat": "insult"})
        + "\n"
        + json.dumps({"text": "The bus lane opens in May.", "label": 0})
        + "\n"
    )
    done = cli("moderation", "eval", str(rows), "--preset", "light", db_url=url)
    assert done.stdout.splitlines()[0] == "thresholds: preset light"
    assert json.loads(done.stdout.splitlines()[-1])["preset"] == "light"
    for command in (["eval", str(rows)], ["check"]):  # a refusal's exit status, from a process
        failed = rejoinder(
            "moderation", *command, "--preset", "extreme", db_url=url, input="", check=False
        )
        assert failed.returncode == 1
        assert "No model preset 'extreme'" in failed.stderr
        assert "standard" in failed.stderr and "light" in failed.stderr


def test_the_profanity_setting_publishes_swearing_at_nothing_only_when_set(desk: Desk) -> None:
    """Set through the admin API (the policy's one schema); a comment that swears at nothing
    is held by default and published under `profanity: publish`; a wrong value is named."""
    api = "/api/v1/admin/policy"
    admin = {"Authorization": f"Bearer {desk.token}"}
    slug = str(desk.app.publish()["slug"])
    path = f"{desk.url}/api/v1/articles/{slug}/comments"
    swearing = "This cake is so damn good."
    for profanity, status in (("hold", 202), ("publish", 201)):
        policy = {**RELAXED, "model_preset": "standard", "profanity": profanity}
        done = desk.app.put(api, headers=admin, json={"policy": policy}, timeout=10)
        assert done.status_code == 200, done.text
        assert desk.app.get(api, headers=admin).json()["policy"]["profanity"] == profanity
        sent = {"body": swearing, "name": "Pat", "email": f"pat-{uuid.uuid4().hex[:6]}@x.org"}
        response = desk.app.post(path, json=sent, timeout=30)
        assert response.status_code == status, (profanity, response.text)
        insult = {**sent, "body": "This cake is damn good, unlike you, you idiot."}
        assert desk.app.post(path, json=insult, timeout=30).status_code == 202
    wrong = desk.app.put(
        api, headers=admin, json={"policy": {**RELAXED, "profanity": "sometimes"}}, timeout=10
    )
    assert wrong.status_code == 422
    assert wrong.json()["field"] == "policy.profanity" and "publish" in wrong.json()["message"]
