"""Console page for editors: knowledge gaps (refused and 👎'd questions), grouped by meaning, and marking one handled.

Questions are embedded with the knowledge base's own embedder and grouped (`bot.core.gaps`); each
gap shows the passages the knowledge base holds nearest to it, so an editor sees what the bot had
to go on. Questions are shown scrubbed of personal data; editors see public passages only.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from aiohttp import web

from bot.adapters.accounts import Role
from bot.adapters.console_store import GapStore
from bot.console.web import CONSOLE, Console, allow, page, session_of
from bot.core.clock import utc
from bot.core.digest_text import scrub
from bot.core.gaps import Gap, GapQuestion, group_gaps
from bot.core.models import Access, Chunk

__all__ = ["routes"]

MAX_QUESTIONS = 500  # the newest; older ones wait until these are handled
PASSAGES = 3
_NOTE_CHARS = 2000

routes = web.RouteTableDef()


def _gaps_and_passages(
    console: Console, gaps_in: list[GapQuestion], access: frozenset[Access]
) -> list[tuple[Gap, list[Chunk]]]:
    embeddings, store = console.services.embeddings, console.services.store
    vectors = [embeddings.embed_query(g.question) for g in gaps_in]
    grouped = group_gaps(gaps_in, vectors, console.settings.gap_similarity)
    return [(gap, [chunk for chunk, _ in store.query(gap.vector, PASSAGES, access)]) for gap in grouped]


@routes.get("/gaps")
@allow(Role.EDITOR)
async def gap_list(request: web.Request) -> web.StreamResponse:
    console = request.app[CONSOLE]
    since = utc() - timedelta(days=console.settings.gap_days)
    questions = (await GapStore(console.services.engine).open_gaps(since))[:MAX_QUESTIONS]
    access = frozenset(Access) if session_of(request).user.role is Role.ADMIN else frozenset({Access.OPENBAAR})
    async with asyncio.timeout(console.services.settings.store.timeout_s + 30):
        gaps = await asyncio.to_thread(_gaps_and_passages, console, questions, access)
    return page(
        request,
        "gaps.html.j2",
        gaps=gaps,
        scrub=scrub,
        days=console.settings.gap_days,
        notice=request.query.get("melding"),
    )


@routes.post("/gaps/handled")
@allow(Role.EDITOR)
async def gap_handled(request: web.Request) -> web.StreamResponse:
    console = request.app[CONSOLE]
    form = await request.post()
    answer_ids = [str(a) for a in form.getall("answer_id", [])]
    note = str(form.get("note", "")).strip()[:_NOTE_CHARS]
    if not answer_ids or not note:
        raise web.HTTPSeeOther("/console/gaps?melding=note_needed")
    user = session_of(request).user
    marked = await GapStore(console.services.engine).mark_handled(answer_ids, user.name, note, utc())
    await console.record(request, "gap_handled", target=answer_ids[0], detail=f"{marked} question(s)")
    raise web.HTTPSeeOther("/console/gaps?melding=handled")
