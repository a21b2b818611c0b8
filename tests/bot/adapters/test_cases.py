"""The OMO case store on SQLite and PostgreSQL: numbering, transitions with audit and outbox, purge, dialogues."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import JSON, column, func, insert, select, table
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.cases import SqlCaseStore
from bot.adapters.db import migrate
from bot.adapters.tables import case_events, cases, intake_dialogues, outbox
from bot.core.escalation import (
    Attachment,
    Case,
    CaseRef,
    CaseRequest,
    CaseState,
    Claim,
    Close,
    Requester,
    TransitionError,
)
from bot.core.escalation_ports import CaseNotFound, Outgoing, StoredDialogue
from bot.core.intake import Dialogue, Step
from bot.core.messages import ConversationRef, TextReply

pytestmark = pytest.mark.integration

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
REQUEST = CaseRequest("Utrecht", "demonstratie", "spoed", "Onrust.", "06-1")
REQUESTER = Requester("matrix", "@a:x", "A", "!dm", "!room")
OMO = ConversationRef("matrix", "!omo")


def note(case: Case) -> list[Outgoing]:
    return [Outgoing(OMO, TextReply(f"nieuw {case.ref}"), "omo_new")]


async def create(store: SqlCaseStore, at: datetime = T0) -> Case:
    return await store.create(REQUEST, REQUESTER, Attachment("V?", "A.", (("Doc", None),)), "a1", at, note)


async def dialogue_data(engine: AsyncEngine) -> list[object]:
    async with engine.connect() as conn:
        return list((await conn.execute(select(intake_dialogues.c.data))).scalars())


async def count(engine: AsyncEngine, table: object) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())  # type: ignore[arg-type]


async def test_references_count_per_year_and_round_trip(engine: AsyncEngine) -> None:
    store = SqlCaseStore(engine)
    first, second = await create(store), await create(store)
    next_year = await create(store, T0.replace(year=2027))
    assert (first.ref, second.ref, next_year.ref) == ("OMO-2026-0001", "OMO-2026-0002", "OMO-2027-0001")
    loaded = await store.get(first.ref)
    assert loaded == first
    assert await count(engine, outbox) == 3


async def test_concurrent_creation_gives_distinct_references(engine: AsyncEngine) -> None:
    stores = [SqlCaseStore(engine) for _ in range(2)]
    made = await asyncio.gather(*(create(stores[i % 2]) for i in range(12)))
    refs = sorted(c.ref for c in made)
    assert refs == [f"OMO-2026-{n:04d}" for n in range(1, 13)]


async def test_apply_writes_audit_and_messages_and_forbidden_changes_nothing(engine: AsyncEngine) -> None:
    store = SqlCaseStore(engine)
    case = await create(store)
    at = T0 + timedelta(minutes=5)
    claimed = await store.apply(
        case.ref, Claim("@omo:x", "Olga", at), lambda b, a: [Outgoing(OMO, TextReply("ok"), "t")]
    )
    assert claimed.state is CaseState.CLAIMED
    with pytest.raises(TransitionError):
        await store.apply(case.ref, Claim("@omo2:x", None, at), lambda b, a: [Outgoing(OMO, TextReply("x"), "t")])
    with pytest.raises(CaseNotFound):
        await store.apply(CaseRef("OMO-2026-0999"), Claim("@omo:x", None, at), lambda b, a: [])
    assert (await store.get(case.ref)) == claimed
    assert [(e.event, e.to_state) for e in await store.audit(case.ref)] == [("create", "new"), ("claim", "claimed")]
    assert await count(engine, outbox) == 2


async def test_reminders_due_only_urgent_new_unreminded(engine: AsyncEngine) -> None:
    store = SqlCaseStore(engine)
    case = await create(store)
    assert await store.reminders_due(T0 - timedelta(seconds=1)) == []
    assert await store.reminders_due(T0 + timedelta(hours=2)) == [case.ref]


async def test_purge_deletes_old_closed_cases_with_their_rows(engine: AsyncEngine) -> None:
    store = SqlCaseStore(engine)
    old, recent, open_case = await create(store), await create(store), await create(store)
    await store.apply(old.ref, Close("@omo:x", None, T0 + timedelta(days=1)), lambda b, a: [])
    await store.apply(recent.ref, Close("@omo:x", None, T0 + timedelta(days=300)), lambda b, a: [])
    await store.save_dialogue(
        StoredDialogue("matrix", "@b:x", "!dm2", None, None, Dialogue(Step.KIND, {"municipality": "X"})), T0
    )
    assert await store.purge(T0 + timedelta(days=100)) == 1
    assert await store.get(old.ref) is None
    assert await store.get(recent.ref) is not None and await store.get(open_case.ref) is not None
    assert await store.audit(old.ref) == []
    assert await count(engine, cases) == 2 and await count(engine, case_events) == 3
    assert await count(engine, outbox) == 2
    assert await store.dialogue("matrix", "@b:x") is None


async def test_dialogue_round_trip(engine: AsyncEngine) -> None:
    store = SqlCaseStore(engine)
    stored = StoredDialogue(
        "matrix", "@b:x", "!dm", "!room", "a1", Dialogue(Step.URGENCY, {"municipality": "X", "kind": "online"})
    )
    await store.save_dialogue(stored, T0)
    assert await store.dialogue("matrix", "@b:x") == stored
    assert await dialogue_data(engine) == [{"municipality": "X", "kind": "online"}]  # the official's answers only
    moved = StoredDialogue(
        "matrix",
        "@b:x",
        "!dm",
        "!room",
        "a1",
        Dialogue(Step.DESCRIPTION, {**stored.dialogue.answers, "urgency": "spoed"}),
    )
    await store.save_dialogue(moved, T0)
    assert await store.dialogue("matrix", "@b:x") == moved
    await store.drop_dialogue("matrix", "@b:x")
    assert await store.dialogue("matrix", "@b:x") is None


async def test_migration_moves_the_hidden_answer_id_out_of_dialogue_data(unmigrated_engine: AsyncEngine) -> None:
    engine = unmigrated_engine
    await migrate(engine, "0008")
    old = {"channel": "matrix", "conversation_id": "!dm", "step": "kind", "started_at": T0, "updated_at": T0}
    async with engine.begin() as conn:  # rows as the store wrote them before 0009
        dialogues = table("intake_dialogues", *(column(c) for c in old), column("user_id"), column("data", JSON))
        await conn.execute(
            insert(dialogues).values(user_id="@a:x", data={"municipality": "X", "_answer_id": "a1"}, **old)
        )
        await conn.execute(insert(dialogues).values(user_id="@b:x", data={"_answer_id": None}, **old))
    await migrate(engine)
    store = SqlCaseStore(engine)
    assert (await store.dialogue("matrix", "@a:x")) == StoredDialogue(
        "matrix", "@a:x", "!dm", None, "a1", Dialogue(Step.KIND, {"municipality": "X"})
    )
    assert (await store.dialogue("matrix", "@b:x")) == StoredDialogue(
        "matrix", "@b:x", "!dm", None, None, Dialogue(Step.KIND, {})
    )
    assert sorted(await dialogue_data(engine), key=len) == [{}, {"municipality": "X"}]
