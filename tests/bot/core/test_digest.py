"""`build_digest` and `due_date`: what a digest says, and when it is due (working days, local time, DST)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.core.digest import (
    Audience,
    DigestEvents,
    DocLine,
    GapReason,
    KnowledgeGapEvent,
    OpenCase,
    build_digest,
    due_date,
    parse_time,
)
from bot.core.models import Access, IngestAction, IngestEvent

pytestmark = pytest.mark.unit

AMS = ZoneInfo("Europe/Amsterdam")
WORKDAYS = frozenset({1, 2, 3, 4, 5})
T0 = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)  # Monday
LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)


def ev(action: IngestAction, doc: str, *, minutes: int = 0, access: Access | None = Access.OPENBAAR) -> IngestEvent:
    return IngestEvent(
        "run",
        T0 + timedelta(minutes=minutes),
        action,
        doc,
        title=doc.upper(),
        url=f"https://kb.example/{doc}",
        access=access,
    )


def due(now: datetime, *, at: time = time(8, 30), last: date | None = None, since: datetime = LONG_AGO) -> date | None:
    return due_date(now, at, AMS, WORKDAYS, subscribed_at=since, last_sent=last)


def test_due_at_half_past_eight_local_on_working_days_only() -> None:
    # winter (CET, UTC+1): 08:30 local is 07:30 UTC
    assert due(datetime(2026, 3, 2, 7, 29, tzinfo=UTC)) is None
    assert due(datetime(2026, 3, 2, 7, 30, tzinfo=UTC)) == date(2026, 3, 2)
    assert due(datetime(2026, 3, 2, 22, 59, tzinfo=UTC)) == date(2026, 3, 2)  # catch-up until local midnight
    assert due(datetime(2026, 3, 7, 9, 0, tzinfo=UTC)) is None  # Saturday
    assert due(datetime(2026, 3, 8, 9, 0, tzinfo=UTC)) is None  # Sunday


def test_due_follows_daylight_saving_time() -> None:
    # DST starts Sunday 29 March 2026; Monday 30 March 08:30 CEST is 06:30 UTC
    assert due(datetime(2026, 3, 30, 6, 29, tzinfo=UTC)) is None
    assert due(datetime(2026, 3, 30, 6, 30, tzinfo=UTC)) == date(2026, 3, 30)
    # DST ends Sunday 25 October 2026; Monday 26 October 08:30 CET is 07:30 UTC
    assert due(datetime(2026, 10, 26, 6, 30, tzinfo=UTC)) is None
    assert due(datetime(2026, 10, 26, 7, 30, tzinfo=UTC)) == date(2026, 10, 26)


def test_local_date_decides_the_day() -> None:
    # 23:30 UTC on Sunday is already Monday 01:30 in Amsterdam (summer): a 01:00 digest is due Monday
    assert due(datetime(2026, 6, 7, 23, 30, tzinfo=UTC), at=time(1, 0)) == date(2026, 6, 8)


def test_never_twice_a_day_and_not_before_subscribing() -> None:
    now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    assert due(now, last=date(2026, 3, 2)) is None
    assert due(now, last=date(2026, 2, 27)) == date(2026, 3, 2)
    # subscribed at 09:00 local, after today's 08:30 slot: the first digest is tomorrow's
    assert due(now, since=datetime(2026, 3, 2, 8, 0, tzinfo=UTC)) is None
    assert due(now + timedelta(days=1), since=datetime(2026, 3, 2, 8, 0, tzinfo=UTC)) == date(2026, 3, 3)


def test_parse_time() -> None:
    assert parse_time("07:45") == time(7, 45)
    assert parse_time("7.05") == time(7, 5)
    for bad in ("25:00", "7", "07:60", "aa:bb", "07:45:00", ""):
        with pytest.raises(ValueError):
            parse_time(bad)


def test_documents_net_over_the_window_and_sorted() -> None:
    events = DigestEvents(
        since=T0,
        until=T0 + timedelta(hours=2),
        changes=[
            ev(IngestAction.ADDED, "new"),
            ev(IngestAction.UPDATED, "new", minutes=1),  # added then changed: still new
            ev(IngestAction.UPDATED, "changed"),
            ev(IngestAction.REMOVED, "gone"),
            ev(IngestAction.ADDED, "blip"),
            ev(IngestAction.REMOVED, "blip", minutes=1),  # came and went: not worth a line
            ev(IngestAction.REMOVED, "back"),
            ev(IngestAction.ADDED, "back", minutes=1),  # removed and re-added: changed
            ev(IngestAction.FAILED, "broken"),
            ev(IngestAction.ADDED, "another"),
        ],
    )
    digest = build_digest(date(2026, 3, 2), events)
    assert [d.title for d in digest.added] == ["ANOTHER", "NEW"]
    assert [d.title for d in digest.changed] == ["BACK", "CHANGED"]
    assert digest.removed == (DocLine("GONE", "https://kb.example/gone"),)
    assert digest.cases is None and digest.gaps is None and not digest.empty


def test_internal_documents_only_in_the_omo_room() -> None:
    events = DigestEvents(
        since=T0,
        until=T0,
        changes=[
            ev(IngestAction.ADDED, "intern", access=Access.OMO_INTERN),
            ev(IngestAction.REMOVED, "unknown", access=None),  # unknown access counts as internal
            ev(IngestAction.ADDED, "open"),
        ],
    )
    public = build_digest(date(2026, 3, 2), events)
    assert [d.title for d in public.added] == ["OPEN"] and public.removed == ()
    omo = build_digest(date(2026, 3, 2), events, Audience(omo=True))
    assert [d.title for d in omo.added] == ["INTERN", "OPEN"] and [d.title for d in omo.removed] == ["UNKNOWN"]


def test_cases_by_urgency_then_age_for_the_omo_room() -> None:
    until = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    cases = [
        OpenCase("OMO-2026-0003", "normaal", 1, until - timedelta(days=4), "Oud maar normaal"),
        OpenCase("OMO-2026-0002", "hoog", 0, until - timedelta(hours=3), "Jong en hoog"),
        OpenCase("OMO-2026-0001", "hoog", 0, until - timedelta(days=2, hours=1), "Oud en hoog"),
    ]
    events = DigestEvents(since=T0, until=until, cases=cases)
    digest = build_digest(date(2026, 3, 2), events, Audience(omo=True))
    assert digest.cases is not None
    assert [c.case_id for c in digest.cases] == ["OMO-2026-0001", "OMO-2026-0002", "OMO-2026-0003"]
    assert (digest.cases[0].age_days, digest.cases[1].age_days, digest.cases[1].age_hours) == (2, 0, 3)
    assert build_digest(date(2026, 3, 2), events).cases is None  # not the OMO room


def test_gaps_grouped_for_editors_most_frequent_first() -> None:
    gaps = [
        KnowledgeGapEvent("Wat is een MIA?", GapReason.REFUSED, T0),
        KnowledgeGapEvent("Wie belt de burgemeester?", GapReason.DISLIKED, T0),
        KnowledgeGapEvent("wat is een  mia?", GapReason.DISLIKED, T0),
    ]
    events = DigestEvents(since=T0, until=T0, gaps=gaps)
    digest = build_digest(date(2026, 3, 2), events, Audience(editors=True))
    assert digest.gaps is not None
    assert [(g.question, g.refused, g.disliked) for g in digest.gaps] == [
        ("Wat is een MIA?", 1, 1),
        ("Wie belt de burgemeester?", 0, 1),
    ]
    assert build_digest(date(2026, 3, 2), events).gaps is None


def test_empty_digest() -> None:
    events = DigestEvents(since=T0, until=T0)
    assert build_digest(date(2026, 3, 2), events).empty
    assert build_digest(date(2026, 3, 2), events, Audience(omo=True, editors=True)).empty
