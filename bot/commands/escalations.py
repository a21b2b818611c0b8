"""`onrust escalations list|show|purge`: the operator's view of OMO cases and the AVG retention purge.

Output is for operators (English labels); case details are shown only on request (`show`).
"""

from __future__ import annotations

import argparse
import json
import re
from datetime import timedelta
from typing import TYPE_CHECKING, TypedDict

from bot.core.clock import utc
from bot.core.escalation import Case, parse_ref
from bot.errors import EscalationError

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from bot.adapters.cases import SqlCaseStore
    from bot.commands import Subcommands
    from bot.config import Settings

__all__ = ["parse_age", "register"]

_AGE = re.compile(r"^(\d+)([dhw])$")


def parse_age(text: str) -> timedelta:
    """`365d`, `12h` or `4w` as a timedelta; raises `argparse.ArgumentTypeError` otherwise."""
    match = _AGE.match(text.strip())
    if match is None:
        raise argparse.ArgumentTypeError(f"expected an age like 365d, 12h or 4w, got {text!r}")
    amount, unit = int(match[1]), match[2]
    return {"d": timedelta(days=amount), "h": timedelta(hours=amount), "w": timedelta(weeks=amount)}[unit]


def register(sub: Subcommands) -> None:
    parser = sub.add_parser("escalations", help="list, show and purge OMO cases")
    commands = parser.add_subparsers(dest="escalations_command", metavar="ACTION", required=True)
    listing = commands.add_parser("list", help="every case, open and closed (reference, state, urgency, dates)")
    listing.add_argument("--json", action="store_true", help="one JSON array instead of a table")
    listing.add_argument("--open", action="store_true", help="only cases that are not closed")
    listing.set_defaults(handler=_list)
    show = commands.add_parser("show", help="one case with its details and audit trail")
    show.add_argument("ref", help="the reference, e.g. OMO-2026-0042")
    show.set_defaults(handler=_show)
    purge = commands.add_parser("purge", help="delete closed cases (with their audit and outbox rows)")
    purge.add_argument("--older-than", type=parse_age, required=True, help="closed longer ago than this, e.g. 365d")
    purge.set_defaults(handler=_purge)


async def _store(settings: Settings) -> tuple[SqlCaseStore, AsyncEngine]:
    # Imported here, not at the top: `onrust --help` reads this module and need not load SQLAlchemy.
    from bot.adapters.cases import SqlCaseStore
    from bot.adapters.db import create_engine, migrate

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = create_engine(settings.database_url, statement_timeout_s=settings.state.statement_timeout_s)
    await migrate(engine)
    return SqlCaseStore(engine), engine


class _CaseLine(TypedDict):
    """A case as `onrust escalations list` shows it (and prints it with --json)."""

    ref: str
    state: str
    urgency: str
    kind: str
    channel: str
    claimed_by: str | None
    created_at: str
    closed_at: str | None


def _summary(case: Case) -> _CaseLine:
    return {
        "ref": case.ref,
        "state": case.state.value,
        "urgency": case.request.urgency,
        "kind": case.request.kind,
        "channel": case.requester.channel,
        "claimed_by": case.claimed_by,
        "created_at": case.created_at.isoformat(),
        "closed_at": case.closed_at.isoformat() if case.closed_at else None,
    }


async def _list(args: argparse.Namespace, settings: Settings) -> int:
    store, engine = await _store(settings)
    try:
        rows = [_summary(c) for c in await store.list_cases(open_only=args.open)]
    finally:
        await engine.dispose()
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    for r in rows:
        claimed = r["claimed_by"] or "-"
        print(f"{r['ref']}  {r['state']:<8} {r['urgency']:<8} {r['kind']:<13} {r['created_at'][:16]}  {claimed}")
    if not rows:
        print("no cases")
    return 0


async def _show(args: argparse.Namespace, settings: Settings) -> int:
    ref = parse_ref(args.ref)
    if ref is None:
        raise EscalationError(f"not a case reference: {args.ref!r} (expected OMO-<year>-<number>)")
    store, engine = await _store(settings)
    try:
        case = await store.get(ref)
        if case is None:
            raise EscalationError(f"no case {ref}")
        audit = await store.audit(ref)
    finally:
        await engine.dispose()
    details = {
        **_summary(case),
        "municipality": case.request.municipality,
        "description": case.request.description,
        "contact": case.request.contact,
        "requester": case.requester.user_id,
        "attached_question": case.attachment.question,
        "closing_note": case.closing_note,
        "audit": [
            {"at": a.at.isoformat(), "actor": a.actor, "event": a.event, "from": a.from_state, "to": a.to_state}
            for a in audit
        ],
    }
    print(json.dumps(details, indent=2, ensure_ascii=False))
    return 0


async def _purge(args: argparse.Namespace, settings: Settings) -> int:
    store, engine = await _store(settings)
    try:
        removed = await store.purge(utc() - args.older_than)
    finally:
        await engine.dispose()
    print(f"purged {removed} closed case(s)")
    return 0
