"""The console with the Matrix channel on a real Synapse: what an official does in chat shows up in the browser,
and what the OMO team does in the browser reaches the official in chat.

One app for the module, as `onrust serve` runs it: the real answerer over a real Chroma store with two small
documents, the Matrix channel, the outbox, SQLite state. An official talks to the bot in a direct chat; the
OMO team's room is made by a team member before the app starts.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
import pytest_asyncio
from aiohttp import web
from nio import RoomMessageNotice, RoomMessageText
from playwright.async_api import Page

from bot.app import CHANNELS, build_app
from bot.channels.matrix import MatrixChannel
from bot.channels.registry import PLUGINS
from bot.config import load_settings
from tests.bot.channels.matrix_harness import Official, eventually
from tests.bot.console.browser import PASSWORDS, prepare, sign_in
from tests.synapse import Synapse, free_port

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.timeout(180),
    pytest.mark.asyncio(loop_scope="module"),
]


@dataclass
class World:
    url: str
    official: Official
    dm: str

    def said(self, containing: str) -> list[str]:
        """What the bot said in the official's direct chat that contains `containing`."""
        return [
            e.body
            for room, e in self.official.events
            if room == self.dm and isinstance(e, RoomMessageText | RoomMessageNotice) and containing in e.body
        ]

    async def exchange(self, text: str, expected: str) -> str:
        """The official says `text`; the bot's first message after it that contains `expected`."""
        before = len(self.said(expected))
        await self.official.say(self.dm, text)
        found = await eventually(lambda: self.said(expected)[before:], what=f"the bot to say {expected!r}")
        return str(found[0])


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(synapse: Synapse, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    data = tmp_path_factory.mktemp("console-synapse")
    await prepare(data)
    tag = uuid.uuid4().hex[:8]
    bot_id = synapse.register(f"onrust-{tag}")
    official = Official(synapse.url, synapse.register(f"ambtenaar-{tag}"), data / "official")
    team = Official(synapse.url, synapse.register(f"omo-{tag}"), data / "omo")
    await official.start()
    await team.start()
    omo_room = (await team.client.room_create(invite=[bot_id])).room_id  # type: ignore[union-attr]
    env = {
        "ONRUST_MATRIX__HOMESERVER": synapse.url,
        "ONRUST_MATRIX__USER_ID": bot_id,
        "ONRUST_MATRIX__PASSWORD": "wachtwoord",
        "ONRUST_MATRIX__OMO_ROOM": omo_room,
        "ONRUST_MATRIX__SYNC_TIMEOUT_MS": "1000",
        "ONRUST_ESCALATION__OUTBOX_POLL_S": "0.2",
    }
    app = build_app(load_settings(environ=env, data_dir=data), plugins=[p for p in PLUGINS if p.name == "matrix"])
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        channel = app[CHANNELS]["matrix"]
        assert isinstance(channel, MatrixChannel)
        await eventually(channel.ready.is_set, timeout=30, what="the Matrix channel")
        await eventually(lambda: omo_room in channel.client.rooms, what="the bot in the OMO room")
        yield World(f"http://127.0.0.1:{port}", official, await official.room(bot_id, direct=True))
    finally:
        await runner.cleanup()
        await official.stop()
        await team.stop()


async def test_a_question_the_bot_cannot_answer_on_matrix_is_a_gap_for_the_editor(world: World, page: Page) -> None:
    refusal = await world.exchange("Hoeveel parkeerplaatsen heeft het stadhuis van Zwolle?", "weet ik niet")
    assert "Bronnen" not in refusal
    await sign_in(page, world.url, "eva", PASSWORDS["eva"])
    assert page.url == f"{world.url}/console/gaps"
    gap = page.locator("section.gap").filter(has_text="Hoeveel parkeerplaatsen heeft het stadhuis van Zwolle?")
    assert await gap.count() == 1
    assert "1× gesteld" in await gap.inner_text()


async def test_a_case_started_on_matrix_is_claimed_answered_and_closed_in_the_console(world: World, page: Page) -> None:
    steps = [
        ("Ik wil graag hulp van het OMO", "Wil je dat ik je vraag doorzet"),
        ("ja", "Over welke gemeente"),
        ("Deventer", "Om wat voor situatie"),
        ("1", "Hoe dringend"),
        ("1", "Beschrijf de situatie"),
        ("Een spontane demonstratie bij de Brink.", "Hoe kan het OMO je bereiken"),
        ("06-12345678", "Klopt dit?"),
    ]
    for text, expected in steps:
        await world.exchange(text, expected)
    confirmation = await world.exchange("ja", "referentie OMO-")
    ref = confirmation.split("referentie ")[1].split(".")[0]

    await sign_in(page, world.url, "omar", PASSWORDS["omar"])
    await page.get_by_role("link", name=ref).click()
    assert "Een spontane demonstratie bij de Brink." in await page.content()
    await page.get_by_role("button", name="Oppakken").click()
    assert await page.get_by_role("status").inner_text() == "Je hebt de zaak opgepakt."
    await eventually(lambda: world.said("is opgepakt door"), what="the claim in the official's chat")
    await page.get_by_label("Antwoord aan de aanvrager").fill("We bellen je binnen tien minuten.")
    await page.get_by_role("button", name="Antwoord versturen").click()
    assert await page.get_by_role("status").inner_text() == "Je antwoord is verstuurd naar de aanvrager."
    await eventually(lambda: world.said("We bellen je binnen tien minuten."), what="the answer on Synapse")
    await page.get_by_role("button", name="Zaak sluiten").click()
    assert await page.get_by_role("status").inner_text() == "De zaak is gesloten."
    await eventually(lambda: world.said("is afgesloten"), what="the closure on Synapse")
