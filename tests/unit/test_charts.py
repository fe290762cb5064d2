"""The SVG bar charts (`core/charts.py`): well-formed XML, everything escaped, bars in
proportion, nothing to draw said in words."""

from __future__ import annotations

import math

import lxml.etree
import pytest

from rejoinder.core.charts import Chart, Series, bar_chart, nice_ceiling

SVG = "{http://www.w3.org/2000/svg}"
NS = {"s": "http://www.w3.org/2000/svg"}


def parse(markup: str) -> lxml.etree._Element:
    return lxml.etree.fromstring(markup.encode())


def chart(**fields: object) -> Chart:
    values: dict[str, object] = {
        "key": "arrivals",
        "title": "Comments per day",
        "summary": "Six comments.",
        "labels": ["Dec 1", "Dec 2", "Dec 3"],
        "series": [Series("Published", [1, 2, 4], "published")],
    }
    values.update(fields)
    return Chart(**values)  # type: ignore[arg-type]


def bars(root: lxml.etree._Element) -> list[lxml.etree._Element]:
    return list(root.iterfind(".//s:rect", NS))


def test_a_chart_is_an_svg_image_named_by_its_title_and_summary() -> None:
    root = parse(bar_chart(chart()))
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    title_id, desc_id = root.get("aria-labelledby", "").split()
    assert root.find(f"{SVG}title").get("id") == title_id  # type: ignore[union-attr]
    assert root.findtext(f"{SVG}title") == "Comments per day"
    assert root.find(f"{SVG}desc").get("id") == desc_id  # type: ignore[union-attr]
    assert root.findtext(f"{SVG}desc") == "Six comments."


def test_bars_are_in_proportion_and_each_says_its_value() -> None:
    root = parse(bar_chart(chart()))
    found = bars(root)
    heights = [float(rect.get("height", "0")) for rect in found]
    assert len(heights) == 3
    assert heights[1] == pytest.approx(2 * heights[0])
    assert heights[2] == pytest.approx(4 * heights[0])
    tips = [rect.findtext(f"{SVG}title") for rect in found]
    assert tips == ["Dec 1: Published 1", "Dec 2: Published 2", "Dec 3: Published 4"]
    # The axis goes up to a round number at or above the tallest bar: 5 here.
    labels = [t.text for t in root.iterfind(".//s:text[@class='value-label']", NS)]
    assert labels == ["0", "2.5", "5"]


def test_series_stack_and_a_missing_value_draws_nothing() -> None:
    made = chart(
        series=[
            Series("Published", [1, None, 3], "published"),
            Series("Held", [2, 2, math.nan], "held"),
        ]
    )
    root = parse(bar_chart(made))
    found = bars(root)
    assert [rect.get("class") for rect in found] == [
        "bar tone-published",
        "bar tone-held",
        "bar tone-held",
        "bar tone-published",
    ]
    first_published, first_held = found[0], found[1]
    # The second of a stack starts where the first ends.
    assert float(first_held.get("y", "0")) + float(first_held.get("height", "0")) == (
        pytest.approx(float(first_published.get("y", "0")))
    )


HOSTILE = '</title><script>alert("x")</script>&amp; \' " <b onload=alert(1)>'


def test_every_text_is_escaped_and_names_cannot_break_out() -> None:
    made = chart(
        key='x" onload="alert(1)',
        title=HOSTILE,
        summary=HOSTILE,
        labels=[HOSTILE, "b", "c"],
        series=[Series(HOSTILE, [1, 1, 1], 'p" onclick="alert(1)')],
        suffix=HOSTILE,
    )
    markup = bar_chart(made)
    root = parse(markup)
    assert root.findtext(f"{SVG}title") == HOSTILE
    assert root.findtext(f"{SVG}desc") == HOSTILE
    assert not list(root.iter(f"{SVG}script", "script", "b"))
    for element in root.iter():
        for name, value in element.attrib.items():
            assert not name.startswith("on"), (name, value)
    assert root.get("aria-labelledby") == "xonloadalert1-title xonloadalert1-desc"
    assert bars(root)[0].get("class") == "bar tone-ponclickalert1"
    assert HOSTILE in (bars(root)[0].findtext(f"{SVG}title") or "")


@pytest.mark.parametrize(
    ("labels", "values"),
    [([], []), (["Dec 1", "Dec 2"], [None, None]), (["Dec 1"], [math.inf])],
)
def test_without_data_the_chart_says_so(labels: list[str], values: list[float | None]) -> None:
    root = parse(bar_chart(chart(labels=labels, series=[Series("P", values, "published")])))
    assert bars(root) == []
    assert root.findtext(".//s:text[@class='no-data']", namespaces=NS) == "No data for these days"


def test_zero_is_drawn_as_a_value_not_as_missing() -> None:
    root = parse(bar_chart(chart(labels=["Dec 1"], series=[Series("P", [0], "published")])))
    [rect] = bars(root)
    assert float(rect.get("height", "1")) == 0


def test_the_day_labels_are_few_and_include_the_first_and_last() -> None:
    labels = [f"Day {i}" for i in range(30)]
    root = parse(bar_chart(chart(labels=labels, series=[Series("P", [1] * 30, "published")])))
    shown = [t.text for t in root.iterfind(".//s:text[@class='day-label']", NS)]
    assert shown[0] == "Day 0" and shown[-1] == "Day 29"
    assert len(shown) == 4


@pytest.mark.parametrize(
    ("value", "ceiling"),
    [(0, 1), (0.3, 1), (1, 1), (3, 5), (4, 5), (7, 10), (11, 20), (21, 25), (26, 50), (888, 1000)],
)
def test_the_axis_ends_at_a_round_number(value: float, ceiling: float) -> None:
    assert nice_ceiling(value) == ceiling
