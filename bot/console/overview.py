"""Console page for every role: questions per day, refusal rate, open OMO cases by urgency, the last ingest runs.

Each figure is one aggregate query (`OverviewStats`). Days are local days in the digest's time zone.
The questions-per-day chart is an inline SVG whose geometry `day_bars` computes here; the template
draws it and shows the same numbers in a table. Editors see case counts only, never a case.
The median answer time counts the answers of the same days that have one recorded (from 0008 on).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from aiohttp import web

from bot.adapters.accounts import Role
from bot.adapters.console_store import DayCount, OverviewStats
from bot.console.web import CONSOLE, allow, page
from bot.core.clock import utc
from bot.core.escalation import URGENCIES

__all__ = ["routes"]

DAYS = 14
INGEST_RUNS = 5
CHART_HEIGHT = 120  # px of the bars' area; the SVG adds room for labels
BAR_STEP = 28
BAR_WIDTH = 20

routes = web.RouteTableDef()


@dataclass(frozen=True, slots=True)
class Bar:
    """One day's bar: the answered part at the bottom, the refused part stacked on top (SVG y grows downwards)."""

    count: DayCount
    x: int
    answered_y: float
    answered_height: float
    refused_y: float
    refused_height: float


def day_bars(days: list[DayCount], height: int = CHART_HEIGHT) -> list[Bar]:
    """Bars scaled so the busiest day fills `height`; a day without questions has no bar."""
    busiest = max((d.questions for d in days), default=0)
    scale = height / busiest if busiest else 0.0
    bars = []
    for i, day in enumerate(days):
        answered = (day.questions - day.refused) * scale
        refused = day.refused * scale
        bars.append(Bar(day, i * BAR_STEP, height - answered, answered, height - answered - refused, refused))
    return bars


@routes.get("/overzicht")
@allow(Role.EDITOR, Role.OMO)
async def overview(request: web.Request) -> web.StreamResponse:
    console = request.app[CONSOLE]
    stats = OverviewStats(console.services.engine)
    tz = ZoneInfo(console.services.settings.digest.timezone)
    today = utc().astimezone(tz).date()
    days = await stats.questions_per_day([today - timedelta(days=n) for n in reversed(range(DAYS))], tz)
    questions, refused = sum(d.questions for d in days), sum(d.refused for d in days)
    open_cases = await stats.open_cases_by_urgency()
    since = datetime.combine(days[0].day, time(), tz)
    median_ms = await stats.median_answer_ms(since)
    return page(
        request,
        "overview.html.j2",
        days=days,
        bars=day_bars(days),
        questions=questions,
        refused=refused,
        refusal_rate=round(100 * refused / questions) if questions else None,
        median_s=None if median_ms is None else round(median_ms / 1000, 1),
        open_cases=[(u, open_cases.get(u, 0)) for u in URGENCIES],
        runs=await stats.ingest_runs(INGEST_RUNS),
        chart={"height": CHART_HEIGHT, "width": DAYS * BAR_STEP, "bar": BAR_WIDTH},
    )
