"""The OMO escalation service end to end over the real case store and outbox, with recording channels."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.cases import SqlCaseStore
from bot.adapters.escalation_support import SqlAnswerLookup
from bot.adapters.outbox import OutboxWorker
from bot.adapters.state import AnswerStore
from bot.core.escalation import CaseRef, CaseState
from bot.core.escalation_service import EscalationService
from bot.core.messages import (
    Action,
    Capability,
    CaseAction,
    CaseVerb,
    ConversationRef,
    FormReply,
    IncomingMessage,
    StartIntake,
    SubmitIntake,
    TextReply,
    UserId,
)
from bot.core.ports import AnswerEntry, AnswerId
from tests.fakes import FakeChannel

pytestmark = pytest.mark.integration

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
USER, OMO_USER = UserId("@ambtenaar:x"), UserId("@olga:x")


class Privates:
    async def private_chat(self, channel: str, user_id: str) -> str | None:
        return "!dm" if user_id == USER else None


class World:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.now = T0
        self.matrix = FakeChannel(name="matrix")  # text only: the intake is a dialogue
        self.teams = FakeChannel(name="teams", capabilities=frozenset({Capability.FORMS, Capability.BUTTONS}))
        self.channels = {"matrix": self.matrix, "teams": self.teams}
        self.store = SqlCaseStore(engine)
        self.service = self.new_service()
        self.worker = OutboxWorker(engine, self.channels, clock=lambda: self.now)

    def new_service(self) -> EscalationService:
        return EscalationService(
            SqlCaseStore(self.engine),
            SqlAnswerLookup(self.engine),
            Privates(),
            self.channels,
            {"matrix": "!omo", "teams": "19:omo"},
            clock=lambda: self.now,
        )

    async def say(
        self,
        text: str,
        room: str = "!dm",
        user: UserId = USER,
        private: bool = True,
        channel: str = "matrix",
        action: Action | None = None,
    ) -> bool:
        msg = IncomingMessage(
            ConversationRef(channel, room),
            "e1",
            user,
            text,
            private,
            self.now,
            sender_name="Olga" if user == OMO_USER else "Ada",
            action=action,
        )
        return await self.service.handle(msg)

    async def deliver(self) -> None:
        while await self.worker.deliver_due():
            pass

    def texts(self, room: str, channel: FakeChannel | None = None) -> list[str]:
        return [
            r.text
            for to, r in (channel or self.matrix).sent
            if to.conversation_id == room and isinstance(r, TextReply | FormReply)
        ]


@pytest.fixture
async def world(engine: AsyncEngine) -> World:
    await AnswerStore(engine).record(
        AnswerEntry(
            AnswerId("a1"), "matrix", "!dm", None, "Wat is de MIA?", ("mia.md",), False, T0, text="Dat weet ik niet."
        )
    )
    return World(engine)


async def fill_dialogue(world: World) -> None:
    for answer in ["!omo", "Utrecht", "1", "1", "Demonstratie bij het gemeentehuis.", "06-12345678"]:
        assert await world.say(answer)


async def test_matrix_dialogue_creates_case_and_team_works_it(world: World) -> None:
    await fill_dialogue(world)
    assert "Klopt dit?" in world.texts("!dm")[-1]
    assert await world.store.list_cases() == []
    assert await world.say("ja")
    await world.deliver()
    confirmation = world.texts("!dm")[-1]
    assert "OMO-2026-0001" in confirmation and "Utrecht" in confirmation
    notice = world.texts("!omo")[-1]
    assert "OMO-2026-0001" in notice and "SPOED" in notice and "Wat is de MIA?" in notice and "mia.md" in notice

    assert await world.say("!omo pak omo-2026-0001", room="!omo", user=OMO_USER, private=False)
    assert await world.say(
        "!omo antwoord OMO-2026-0001 We bellen je om 10 uur.", room="!omo", user=OMO_USER, private=False
    )
    assert await world.say("!omo sluit OMO-2026-0001 Besproken", room="!omo", user=OMO_USER, private=False)
    await world.deliver()
    dm = world.texts("!dm")
    assert "opgepakt door Olga" in dm[-3] and "We bellen je om 10 uur." in dm[-2] and "Besproken" in dm[-1]
    case = await world.store.get(CaseRef("OMO-2026-0001"))
    assert case is not None and case.state is CaseState.CLOSED
    assert [e.event for e in await world.store.audit(case.ref)] == ["create", "claim", "answer", "close"]


async def test_shared_room_request_moves_to_private_and_room_hears_only_the_reference(world: World) -> None:
    assert await world.say("!omo", room="!gedeeld", private=False)
    assert "privébericht" in world.texts("!gedeeld")[-1]
    for answer in ["Zeist", "3", "2", "Haatberichten online.", "ada@zeist.nl", "ja"]:
        assert await world.say(answer)
    await world.deliver()
    shared = world.texts("!gedeeld")
    assert "OMO-2026-0001" in shared[-1] and "Zeist" not in " ".join(shared) and "ada@zeist.nl" not in " ".join(shared)
    assert "Zeist" in world.texts("!dm")[-1]


async def test_dialogue_survives_a_restart(world: World) -> None:
    for answer in ["!omo", "Utrecht", "1"]:
        await world.say(answer)
    world.service = world.new_service()  # another instance, no shared memory
    for answer in ["2", "Beschrijving.", "06-1", "ja"]:
        assert await world.say(answer)
    assert len(await world.store.list_cases()) == 1


@pytest.mark.parametrize("bad", ["", "   ", "x" * 10_000])
async def test_bad_description_is_explained_and_changes_nothing(world: World, bad: str) -> None:
    for answer in ["!omo", "Utrecht", "1", "1"]:
        await world.say(answer)
    before = await world.store.dialogue("matrix", USER)
    await world.say(bad)
    reply = world.texts("!dm")[-1]
    assert ("te lang" in reply) if bad.strip() else ("geen antwoord" in reply)
    assert await world.store.dialogue("matrix", USER) == before


async def test_cancelled_dialogue_leaves_no_case(world: World) -> None:
    for answer in ["!omo", "Utrecht", "!stop"]:
        await world.say(answer)
    assert "geannuleerd" in world.texts("!dm")[-1]
    assert await world.store.dialogue("matrix", USER) is None
    assert not await world.say("Utrecht")  # no dialogue: an ordinary question again
    await fill_dialogue(world)
    await world.say("nee")
    assert await world.store.list_cases() == []


async def test_team_command_errors(world: World) -> None:
    omo = {"room": "!omo", "user": OMO_USER, "private": False}
    await world.say("!omo pak OMO-2026-0042", **omo)  # type: ignore[arg-type]
    assert "OMO-2026-0042" in world.texts("!omo")[-1] and "ken geen" in world.texts("!omo")[-1]
    await world.say("!omo pak 42", **omo)  # type: ignore[arg-type]
    assert "OMO-2026-0042" in world.texts("!omo")[-1]  # the example reference
    await world.say("!omo lijst", room="!gedeeld", private=False)
    assert "alleen in de ruimte van het OMO" in world.texts("!gedeeld")[-1]
    await fill_dialogue(world)
    await world.say("ja")
    await world.say("!omo antwoord OMO-2026-0001", **omo)  # type: ignore[arg-type]
    assert "leeg" in world.texts("!omo")[-1]
    await world.say("!omo antwoord OMO-2026-0001 " + "z" * 10_000, **omo)  # type: ignore[arg-type]
    assert "te lang" in world.texts("!omo")[-1]
    await world.say("!omo lijst", **omo)  # type: ignore[arg-type]
    assert "OMO-2026-0001" in world.texts("!omo")[-1]
    case = await world.store.get(CaseRef("OMO-2026-0001"))
    assert case is not None and case.state is CaseState.NEW


async def test_teams_form_and_card_buttons(world: World) -> None:
    await world.say("", room="19:dm", channel="teams", action=StartIntake("a1"))
    form = world.teams.sent[-1][1]
    assert isinstance(form, FormReply) and [f.name for f in form.fields][:2] == ["municipality", "kind"]
    submit = form.buttons[0].action
    assert isinstance(submit, SubmitIntake) and submit.answer_id == "a1"
    partial = replace(submit, fields={"municipality": "Ede", "kind": "x"})
    await world.say("", room="19:dm", channel="teams", action=partial)
    assert "niet ingevuld" in world.texts("19:dm", world.teams)[-1]
    data = {
        "municipality": "Ede",
        "kind": "opvang",
        "urgency": "normaal",
        "description": "Spanning.",
        "contact": "0318",
    }
    await world.say("", room="19:dm", channel="teams", action=replace(submit, fields=data))
    await world.deliver()
    card = world.teams.sent[-2][1] if world.teams.sent[-1][0].conversation_id == "19:dm" else world.teams.sent[-1][1]
    notice = [r for to, r in world.teams.sent if to.conversation_id == "19:omo"]
    assert notice and isinstance(notice[0], FormReply) and "Wat is de MIA?" in notice[0].text
    assert card
    assert [b.action for b in notice[0].buttons] == [CaseAction(v, "OMO-2026-0001") for v in CaseVerb]
    for verb, text in ((CaseVerb.CLAIM, ""), (CaseVerb.ANSWER, "Bel ons."), (CaseVerb.CLOSE, "")):
        await world.say(
            "",
            room="19:omo",
            user=OMO_USER,
            private=False,
            channel="teams",
            action=CaseAction(verb, "OMO-2026-0001", text),
        )
    await world.deliver()
    dm = world.texts("19:dm", world.teams)
    assert "opgepakt" in dm[-3] and "Bel ons." in dm[-2] and "afgesloten" in dm[-1]


async def test_request_in_words_is_confirmed_then_becomes_the_intake(world: World) -> None:
    assert await world.say("Ik wil graag hulp van het OMO")
    offer = world.matrix.sent[-1][1]
    assert isinstance(offer, TextReply) and "Wil je dat ik je vraag doorzet" in offer.text
    assert [type(b.action) for b in offer.buttons] == [StartIntake]
    assert await world.say("Ja, graag")
    assert "Over welke gemeente" in world.texts("!dm")[-1]
    for answer in ["Utrecht", "1", "2", "Spanning rond de opvang.", "06-1", "ja"]:
        assert await world.say(answer)
    (case,) = await world.store.list_cases()
    assert case.request.municipality == "Utrecht" and case.answer_id == "a1"


async def test_declined_or_ignored_offer_starts_nothing(world: World) -> None:
    assert await world.say("kan ik iemand van het OMO spreken?")
    assert await world.say("nee")
    assert "ik zet niets door" in world.texts("!dm")[-1]
    assert not await world.say("ja")  # the offer is gone: "ja" is an ordinary message again
    assert await world.say("graag escaleren")
    assert not await world.say("Wat is een noodbevel?")  # another question: the offer lapses, the question is answered
    assert not await world.say("ja")
    assert await world.store.list_cases() == []


async def test_question_about_the_omo_is_left_to_be_answered(world: World) -> None:
    assert not await world.say("Wat doet het OMO?")
    assert world.matrix.sent == []


async def test_request_in_words_in_a_shared_room_moves_to_private(world: World) -> None:
    assert await world.say("Ik wil graag hulp van het OMO", room="!gedeeld", private=False)
    assert "noem mij daarbij" in world.texts("!gedeeld")[-1]
    assert await world.say("ja", room="!gedeeld", private=False)
    assert "privébericht" in world.texts("!gedeeld")[-1]
    assert "Over welke gemeente" in world.texts("!dm")[-1]


async def test_request_in_words_on_teams_gets_the_form(world: World) -> None:
    assert await world.say("Ik wil een mens spreken", room="19:dm", channel="teams")
    offer = world.teams.sent[-1][1]
    assert isinstance(offer, TextReply) and isinstance(offer.buttons[0].action, StartIntake)
    assert await world.say("ja", room="19:dm", channel="teams")
    form = world.teams.sent[-1][1]
    assert isinstance(form, FormReply) and form.fields[0].name == "municipality"


async def test_urgent_unclaimed_case_is_announced_again_once(world: World) -> None:
    await fill_dialogue(world)
    await world.say("ja")
    assert await world.service.check_reminders() == 0
    world.now += timedelta(hours=2, seconds=1)
    other = world.new_service()
    assert await world.service.check_reminders() + await other.check_reminders() == 1
    await world.deliver()
    assert sum("Herinnering" in t for t in world.texts("!omo")) == 1
