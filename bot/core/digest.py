"""The daily digest as data: who gets it when (`due_date`), and what it says (`build_digest`), both pure.

A subscription belongs to one conversation. Its digest is due on a working day once the local
delivery time has passed and nothing was sent for that day yet; a slot from before the
subscription started is never due. What the digest says depends on the room: every room sees the
public documents added, changed and removed since the previous digest; the OMO room also sees
internal documents and the open cases; editors' rooms also see the knowledge gaps (questions the bot
refused or that got a 👎), already scrubbed of personal data by the caller.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.core.messages import ConversationId
from bot.core.models import Access, IngestAction, IngestEvent

__all__ = [
    "Audience",
    "CaseLine",
    "Digest",
    "DigestEvents",
    "DocLine",
    "GapLine",
    "GapReason",
    "KnowledgeGapEvent",
    "OpenCase",
    "Subscription",
    "build_digest",
    "due_date",
    "parse_time",
]


@dataclass(frozen=True, slots=True)
class Audience:
    """What kind of room a digest goes to: the OMO room sees cases and internal documents, editors the gaps."""

    omo: bool = False
    editors: bool = False


@dataclass(frozen=True, slots=True)
class OpenCase:
    """An open OMO case as the digest lists it; `rank` orders urgencies (0 is the most urgent)."""

    case_id: str
    urgency: str
    rank: int
    opened_at: datetime
    subject: str


@dataclass(frozen=True, slots=True)
class Subscription:
    """One conversation's digest subscription. `send_time` None means the global `digest.time`.

    `last_sent_date` is the local date of the last digest claimed for it, `last_sent_at` the moment
    (aware); the next digest covers what happened since then.
    """

    id: int
    channel: str
    conversation_id: ConversationId
    send_time: time | None
    audience: Audience
    subscribed_at: datetime
    last_sent_date: date | None = None
    last_sent_at: datetime | None = None


class GapReason(StrEnum):
    REFUSED = "refused"
    DISLIKED = "disliked"


@dataclass(frozen=True, slots=True)
class KnowledgeGapEvent:
    """A question the bot refused or that got a 👎; `question` must already be scrubbed."""

    question: str
    reason: GapReason
    at: datetime


@dataclass(frozen=True, slots=True)
class DigestEvents:
    """Everything that happened in the window (`since`, `until`]; `until` is when it was collected (aware)."""

    since: datetime
    until: datetime
    changes: Sequence[IngestEvent] = ()
    cases: Sequence[OpenCase] = ()
    gaps: Sequence[KnowledgeGapEvent] = ()


@dataclass(frozen=True, slots=True)
class DocLine:
    title: str
    url: str | None


@dataclass(frozen=True, slots=True)
class CaseLine:
    case_id: str
    urgency: str
    subject: str
    age_days: int
    age_hours: int


@dataclass(frozen=True, slots=True)
class GapLine:
    question: str
    refused: int
    disliked: int


@dataclass(frozen=True, slots=True)
class Digest:
    """One room's digest for `day`. `cases` and `gaps` are None when the room does not get that section."""

    day: date
    added: tuple[DocLine, ...] = ()
    changed: tuple[DocLine, ...] = ()
    removed: tuple[DocLine, ...] = ()
    cases: tuple[CaseLine, ...] | None = None
    gaps: tuple[GapLine, ...] | None = None

    @property
    def empty(self) -> bool:
        """True when there is nothing to tell (no document changes, no open cases, no gaps)."""
        return not (self.added or self.changed or self.removed or self.cases or self.gaps)


def parse_time(text: str) -> time:
    """`"07:45"` or `"7.45"` → 07:45; raises ValueError for anything else (hours 0-23, minutes 0-59)."""
    parts = text.strip().replace(".", ":").split(":")
    if len(parts) != 2 or not all(p.isdigit() and 1 <= len(p) <= 2 for p in parts):
        raise ValueError(f"not a time of day: {text!r}")
    return time(int(parts[0]), int(parts[1]))


def due_date(
    now: datetime,
    at: time,
    tz: ZoneInfo,
    weekdays: Collection[int],
    *,
    subscribed_at: datetime,
    last_sent: date | None,
) -> date | None:
    """The local date whose digest is due at `now` (aware), or None.

    Due when today (in `tz`) is one of `weekdays` (ISO: 1 = Monday), the local time `at` has passed,
    that moment is not before `subscribed_at`, and `last_sent` is before today. A digest missed while
    the bot was down is therefore due until midnight, and never twice.
    """
    local = now.astimezone(tz)
    today = local.date()
    if today.isoweekday() not in weekdays or (last_sent is not None and last_sent >= today):
        return None
    # fold=0 and ZoneInfo resolve a time that does not exist (DST gap) to the wall time after the jump
    slot = datetime.combine(today, at, tzinfo=tz)
    if slot > local or slot < subscribed_at:
        return None
    return today


def _net_changes(events: Sequence[IngestEvent]) -> dict[str, tuple[IngestAction, IngestEvent]]:
    """Per document, the net effect over the window and its newest event; documents that came and went
    again within the window (or failed only) are left out."""
    first: dict[str, IngestEvent] = {}
    last: dict[str, IngestEvent] = {}
    for event in events:
        if event.action is IngestAction.FAILED:
            continue
        first.setdefault(event.doc_id, event)
        last[event.doc_id] = event
    net: dict[str, tuple[IngestAction, IngestEvent]] = {}
    for doc_id, newest in last.items():
        existed = first[doc_id].action is not IngestAction.ADDED
        exists = newest.action is not IngestAction.REMOVED
        if existed and exists:
            net[doc_id] = (IngestAction.UPDATED, newest)
        elif existed:
            net[doc_id] = (IngestAction.REMOVED, newest)
        elif exists:
            net[doc_id] = (IngestAction.ADDED, newest)
    return net


def _doc_lines(events: Sequence[IngestEvent], audience: Audience) -> dict[IngestAction, list[DocLine]]:
    access: dict[str, Access] = {}
    for event in events:
        if event.access is not None:
            access[event.doc_id] = event.access
    lines: dict[IngestAction, list[DocLine]] = {a: [] for a in IngestAction}
    for doc_id, (action, event) in _net_changes(events).items():
        # unknown access counts as internal, so a title never leaks into a public room
        if not audience.omo and access.get(doc_id) is not Access.OPENBAAR:
            continue
        lines[action].append(DocLine(title=event.title or doc_id, url=event.url))
    for found in lines.values():
        found.sort(key=lambda d: d.title.casefold())
    return lines


def _case_lines(cases: Sequence[OpenCase], until: datetime) -> tuple[CaseLine, ...]:
    ordered = sorted(cases, key=lambda c: (c.rank, c.opened_at, c.case_id))
    result = []
    for case in ordered:
        age = max(until - case.opened_at, timedelta(0))
        result.append(
            CaseLine(
                case_id=case.case_id,
                urgency=case.urgency,
                subject=case.subject,
                age_days=age.days,
                age_hours=int(age.total_seconds() // 3600),
            )
        )
    return tuple(result)


def _gap_lines(gaps: Sequence[KnowledgeGapEvent]) -> tuple[GapLine, ...]:
    """One line per distinct question (case- and space-insensitive), most frequent first."""
    counts: dict[str, tuple[str, int, int]] = {}
    for gap in gaps:
        key = " ".join(gap.question.casefold().split())
        text, refused, disliked = counts.get(key, (gap.question.strip(), 0, 0))
        if gap.reason is GapReason.REFUSED:
            refused += 1
        else:
            disliked += 1
        counts[key] = (text, refused, disliked)
    lines = [GapLine(question=q, refused=r, disliked=d) for q, r, d in counts.values()]
    lines.sort(key=lambda g: (-(g.refused + g.disliked), g.question.casefold()))
    return tuple(lines)


def build_digest(day: date, events: DigestEvents, audience: Audience = Audience()) -> Digest:
    """The digest for `day` from the window's events, with the sections `audience` may see."""
    docs = _doc_lines(events.changes, audience)
    return Digest(
        day=day,
        added=tuple(docs[IngestAction.ADDED]),
        changed=tuple(docs[IngestAction.UPDATED]),
        removed=tuple(docs[IngestAction.REMOVED]),
        cases=_case_lines(events.cases, events.until) if audience.omo else None,
        gaps=_gap_lines(events.gaps) if audience.editors else None,
    )
