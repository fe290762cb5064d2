"""The desk's Activity page (/admin/activity): the site's last days in four charts drawn on
the server as SVG (`core/charts.py`), each with a title, a summary in words and its numbers
as a table. `?days=` chooses how many days (7 to 365; 30 by default)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from fastapi import APIRouter, Request
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, Response

from rejoinder.core.activity import DAYS_DEFAULT, DAYS_MAX, DAYS_MIN, Day
from rejoinder.core.charts import Chart, Series, bar_chart, format_value
from rejoinder.core.errors import Invalid
from rejoinder.runtime import utcnow
from rejoinder.usecases import activity
from rejoinder.web.deps import DeskStaffDep, RuntimeDep
from rejoinder.web.desk.policy import model_presets
from rejoinder.web.params import parse_int

router = APIRouter()
DAY_CHOICES = (7, 30, 90, 365)
DAYS_MESSAGE = f"Days is a whole number from {DAYS_MIN} to {DAYS_MAX}."


@dataclass(frozen=True)
class ChartView:
    """A chart as the page shows it: the SVG, its legend and its numbers as a table."""

    chart: Chart
    svg: Markup
    rows: list[tuple[str, list[str]]]  # a day, then one cell per series

    @property
    def legend(self) -> Sequence[Series]:
        return self.chart.series


def _short(day: date) -> str:
    return f"{day:%b} {day.day}"


def _view(chart: Chart, days: Sequence[Day]) -> ChartView:
    rows = []
    for i, day in enumerate(days):
        cells = []
        for series in chart.series:
            value = series.values[i]
            cells.append(
                "–" if value is None else format_value(value, chart.decimals, chart.suffix)
            )
        rows.append((day.day.isoformat(), cells))
    return ChartView(chart=chart, svg=Markup(bar_chart(chart)), rows=rows)


def _peak(days: Sequence[Day], value: Callable[[Day], float | None]) -> tuple[Day, float] | None:
    known = [(day, v) for day in days if (v := value(day)) is not None]
    return max(known, key=lambda pair: pair[1]) if known else None


def _plural(count: int, one: str, many: str) -> str:
    return f"{count:,} {one if count == 1 else many}"


def charts(days: Sequence[Day]) -> list[ChartView]:
    """The page's four charts over `days`, with their summaries."""
    labels = [_short(day.day) for day in days]
    span = _plural(len(days), "day", "days")

    published = sum(d.published for d in days)
    held = sum(d.held for d in days)
    refused = sum(d.refused for d in days)
    busiest = _peak(days, lambda d: d.published + d.held + d.refused)
    arrivals = (
        f"Over the last {span}: {_plural(published, 'comment', 'comments')} published at once, "
        f"{held:,} held and {refused:,} refused."
    )
    if busiest and busiest[1]:
        arrivals += f" The busiest day was {_short(busiest[0].day)} ({busiest[1]:,.0f})."

    today = days[-1].queue if days else 0
    fullest = _peak(days, lambda d: d.queue)
    queue = f"{_plural(today, 'comment waits', 'comments wait')} in the held queue now."
    if fullest and fullest[1]:
        queue += f" The most at the end of a day: {fullest[1]:,.0f} on {_short(fullest[0].day)}."

    decided = sum(d.decisions for d in days)
    slowest = _peak(days, lambda d: d.median_wait_hours)
    if decided and slowest:
        wait = (
            f"{_plural(decided, 'decision', 'decisions')} on held comments in {span}; "
            f"the slowest day's median was {slowest[1]:,.1f} h ({_short(slowest[0].day)})."
        )
    else:
        wait = f"No held comment was decided in {span}."

    scored = sum(d.scored for d in days)
    high = sum(d.high for d in days)
    share_peak = _peak(days, lambda d: d.high_share)
    if scored and share_peak:
        share = (
            f"The model scored {_plural(scored, 'comment', 'comments')} in {span}; "
            f"{high:,} ({100 * high / scored:.0f}%) reached a hold threshold. "
            f"The highest share was {share_peak[1]:.0f}% on {_short(share_peak[0].day)}."
        )
    else:
        share = f"The model scored no comment in {span}."

    made = [
        Chart(
            key="arrivals",
            title="Comments per day",
            summary=arrivals,
            labels=labels,
            series=(
                Series("Published", [d.published for d in days], "published"),
                Series("Held", [d.held for d in days], "held"),
                Series("Refused", [d.refused for d in days], "refused"),
            ),
        ),
        Chart(
            key="queue",
            title="Held queue at the end of each day",
            summary=queue,
            labels=labels,
            series=(Series("Waiting", [d.queue for d in days], "queue"),),
        ),
        Chart(
            key="wait",
            title="Median time from post to decision (hours)",
            summary=wait,
            labels=labels,
            series=(Series("Median wait", [d.median_wait_hours for d in days], "wait"),),
            suffix=" h",
            decimals=1,
        ),
        Chart(
            key="high",
            title="Share of comments the model scored high",
            summary=share,
            labels=labels,
            series=(Series("Scored high", [d.high_share for d in days], "high"),),
            suffix="%",
        ),
    ]
    return [_view(chart, days) for chart in made]


@router.get("/admin/activity", include_in_schema=False)
async def activity_page(
    request: Request,
    staff: DeskStaffDep,
    rt: RuntimeDep,
    days: str = "",
) -> Response:
    site = staff.site
    typed = days.strip()[:20]
    error = ""
    views: list[ChartView] = []
    holds: dict[str, float] = {}
    try:
        wanted = parse_int(typed, "days", DAYS_MESSAGE, low=DAYS_MIN, high=DAYS_MAX)
    except Invalid as bad:
        error, wanted = str(bad.message), None
    if not error:
        found = await run_in_threadpool(
            activity.read_activity,
            rt.db,
            site_id=site.id,
            days=wanted or DAYS_DEFAULT,
            now=utcnow(),
            presets=model_presets(rt),
        )
        views, holds = charts(found.days), found.holds
    body = request.app.state.render(
        "desk/activity.html",
        staff=staff,
        tab="activity",
        views=views,
        holds=holds,
        typed=typed,
        shown=wanted or DAYS_DEFAULT,
        choices=DAY_CHOICES,
        error=error,
        days_min=DAYS_MIN,
        days_max=DAYS_MAX,
        back="/admin/activity",
    )
    return HTMLResponse(
        body, status_code=422 if error else 200, headers={"Cache-Control": "no-store"}
    )
