"""Composition root: the only place that picks concrete classes and wires them together.

`open_store` gives the vector store, `open_services` everything a command or the server needs, and
`build_app` the aiohttp application that `onrust serve` runs (Teams endpoint, Matrix sync and the
scheduler start and stop with it through `cleanup_ctx`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.cases import SqlCaseStore
from bot.adapters.chroma import ChromaStore
from bot.adapters.conversation_stores import ChromaSources, StateMessageClaims
from bot.adapters.db import create_engine, migrate
from bot.adapters.digest_store import CaseDigestSource, DigestStore
from bot.adapters.embeddings import NamedEmbeddings, build_embeddings
from bot.adapters.escalation_support import DirectChatOpener, SqlAnswerLookup, StatePrivateChats
from bot.adapters.outbox import OutboxWorker
from bot.adapters.scheduler import Scheduler
from bot.adapters.search import Bm25Index, DenseSearch, save_lexical_index
from bot.adapters.state import AnswerStore, ConversationStore, IngestLog, KeyValueStore
from bot.channels.base import Channel
from bot.channels.matrix import MatrixChannel
from bot.channels.teams import TeamsChannel, teams_routes
from bot.config import Settings
from bot.core.answering import Answerer
from bot.core.conversation import Conversation
from bot.core.digest_service import DigestPolicy, DigestService, OpenCases
from bot.core.escalation_service import EscalationService
from bot.core.intake import Limits
from bot.core.models import DocId
from bot.core.pipeline import AnswerPipeline, LLMAnswerer
from bot.core.retrieval import HybridRetriever

__all__ = [
    "CHANNELS",
    "CHANNEL_FACTORIES",
    "CONVERSATION",
    "OUTBOX",
    "SCHEDULER",
    "SERVICES",
    "ChannelFactory",
    "Services",
    "build_answerer",
    "build_app",
    "build_digests",
    "build_escalation",
    "lexical_dir",
    "matrix_channel",
    "omo_rooms",
    "open_services",
    "open_store",
    "save_lexical",
]

log = logging.getLogger(__name__)


def open_store(settings: Settings) -> tuple[ChromaStore, NamedEmbeddings]:
    """The configured embedder and the vector store, opened (raises `ConfigError` on an embedder mismatch)."""
    embeddings = build_embeddings(settings.embedding)
    store = ChromaStore(settings.store, settings.chroma_path, embeddings)
    store.open()
    return store, embeddings


def lexical_dir(settings: Settings) -> Path:
    """Where the saved lexical index of the configured collection lives (under this host's data dir)."""
    return settings.data_dir / "lexical" / settings.store.collection


def save_lexical(services: Services) -> None:
    """Build and save the lexical index of the store's current generation, unless saved already or unused."""
    if services.settings.retrieval.mode != "dense":
        save_lexical_index(services.store, lexical_dir(services.settings))


@dataclass(frozen=True, slots=True)
class Services:
    """Shared objects of one running process; nothing here holds state another instance would need."""

    settings: Settings
    engine: AsyncEngine
    store: ChromaStore
    embeddings: NamedEmbeddings
    ingest_log: IngestLog
    answers: AnswerStore
    conversations: ConversationStore
    kv: KeyValueStore


@asynccontextmanager
async def open_services(settings: Settings) -> AsyncIterator[Services]:
    """Open the state database (migrated) and the vector store; dispose of them on exit."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = create_engine(settings.database_url)
    try:
        await migrate(engine)
        store, embeddings = open_store(settings)
        yield Services(
            settings=settings,
            engine=engine,
            store=store,
            embeddings=embeddings,
            ingest_log=IngestLog(engine),
            answers=AnswerStore(engine),
            conversations=ConversationStore(engine),
            kv=KeyValueStore(engine),
        )
    finally:
        await engine.dispose()


def build_answerer(services: Services, *, warm: bool = True) -> AnswerPipeline:
    """The configured answer pipeline: hybrid (or dense/BM25) retrieval, the LLM if configured, else extractive.

    With `warm`, the embedder and the lexical index load now, so the first question is as fast as the rest.
    """
    settings = services.settings
    cfg = settings.retrieval
    dense = DenseSearch(services.store, services.embeddings) if cfg.mode != "bm25" else None
    lexical = Bm25Index(services.store, lexical_dir(settings), refresh_s=cfg.refresh_s) if cfg.mode != "dense" else None
    if warm:
        if dense is not None:
            services.embeddings.warm_up()
        if lexical is not None:
            lexical.warm_up()
    retriever = HybridRetriever(
        dense, lexical, mode=cfg.mode, top_k=cfg.top_k, candidates=cfg.candidates, bm25_weight=cfg.bm25_weight
    )
    llm = None
    if settings.llm.base_url:
        # Imported here: langchain-openai takes ~0.7 s to import and most runs have no LLM.
        from bot.adapters.llm import OpenAIChatModel

        llm = LLMAnswerer(OpenAIChatModel(settings.llm), timeout_s=settings.llm.timeout_s)
    return AnswerPipeline(
        retriever,
        min_similarity=cfg.min_similarity,
        min_lead_similarity=cfg.min_lead_similarity,
        no_overlap_margin=cfg.no_overlap_margin,
        max_passages=settings.answer.max_passages,
        max_sentences=settings.answer.max_sentences,
        llm=llm,
    )


ChannelFactory = Callable[["Services"], Channel | None]
"""Builds one channel from the services, or returns None when that channel is not configured."""

SERVICES = web.AppKey("services", Services)
SCHEDULER = web.AppKey("scheduler", Scheduler)
OUTBOX = web.AppKey("outbox", OutboxWorker)
CONVERSATION = web.AppKey("conversation", Conversation)
CHANNELS = web.AppKey("channels", dict[str, Channel])
_CHANNEL_TASKS = web.AppKey("channel_tasks", dict[str, "asyncio.Task[None]"])


def matrix_channel(services: Services) -> Channel | None:
    """The Matrix channel if `matrix.homeserver` is set; its device and crypto store live in `<data_dir>/matrix`."""
    cfg = services.settings.matrix
    if not cfg.homeserver:
        return None
    return MatrixChannel(cfg, services.settings.data_dir / "matrix", services.kv)


def teams_channel(services: Services) -> Channel | None:
    """The Teams channel if `teams.enabled`; its `POST /api/messages` route is added by `build_app`."""
    cfg = services.settings.teams
    return TeamsChannel(cfg, services.conversations) if cfg.enabled else None


def omo_rooms(settings: Settings) -> dict[str, str]:
    """The OMO team's own conversation per channel (`matrix.omo_room`, `teams.omo_conversation_id`), where set."""
    rooms = {"matrix": settings.matrix.omo_room, "teams": settings.teams.omo_conversation_id}
    return {channel: room for channel, room in rooms.items() if room}


def build_digests(
    services: Services, cases: OpenCases | None = None, on_queued: Callable[[], None] | None = None
) -> DigestService:
    """The digest job and `!digest` command from the `digest` settings; OMO rooms also see the open cases
    (from the case store unless `cases` is given)."""
    settings = services.settings
    cfg = settings.digest
    return DigestService(
        DigestStore(services.engine),
        services.ingest_log,
        cases if cases is not None else CaseDigestSource(SqlCaseStore(services.engine)),
        DigestPolicy(
            time=cfg.time,
            timezone=ZoneInfo(cfg.timezone),
            weekdays=frozenset(cfg.weekdays),
            send_when_empty=cfg.send_when_empty,
            max_message_chars=cfg.max_message_chars,
        ),
        omo_rooms=set(omo_rooms(settings).items()),
        editor_rooms=cfg.editor_rooms,
        on_queued=on_queued,
    )


def build_escalation(services: Services, channels: dict[str, Channel], poke: Callable[[], None]) -> EscalationService:
    """OMO intake and case handling over the state database; `poke` wakes the outbox after a change."""
    settings = services.settings
    cfg = settings.escalation
    openers = {n: c for n, c in channels.items() if isinstance(c, MatrixChannel)}

    async def titles(doc_ids: Sequence[str]) -> dict[str, tuple[str, str | None]]:
        async with asyncio.timeout(settings.store.timeout_s):
            docs = await asyncio.to_thread(services.store.document_infos, [DocId(d) for d in doc_ids])
        return {d: (docs[DocId(d)].title, docs[DocId(d)].url) for d in doc_ids if DocId(d) in docs}

    return EscalationService(
        SqlCaseStore(services.engine),
        SqlAnswerLookup(services.engine, titles),
        StatePrivateChats(services.conversations, dict[str, DirectChatOpener](openers)),
        channels,
        {name: conv for name, conv in omo_rooms(settings).items() if name in channels},
        poke=poke,
        limits=Limits(description=cfg.max_description_chars, field=cfg.max_field_chars),
        max_message_chars=settings.answer.max_question_chars,
        reminder_after_s=cfg.reminder_after_s,
    )


CHANNEL_FACTORIES: list[ChannelFactory] = [matrix_channel, teams_channel]
"""Every channel `onrust serve` can run; a channel adds its factory here (Teams also adds its routes)."""


async def _run_channel(channel: Channel, conversation: Conversation) -> None:
    try:
        await channel.run(conversation.handle)
    except Exception:
        log.exception("channel %s stopped", channel.name)
        raise


def build_app(
    settings: Settings,
    *,
    channel_factories: Sequence[ChannelFactory] | None = None,
    answerer_factory: Callable[[Services], Answerer] = build_answerer,
) -> web.Application:
    """The server of `onrust serve`: every configured channel delivering to one `Conversation`, and
    `GET /healthz`. Services open and channels start with the app (`cleanup_ctx`) and stop with it.
    """
    factories = list(CHANNEL_FACTORIES if channel_factories is None else channel_factories)
    app = web.Application()

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        async with open_services(settings) as services:
            answerer = await asyncio.to_thread(answerer_factory, services)  # loads models: off the loop
            channels = {c.name: c for c in (f(services) for f in factories) if c is not None}
            esc = settings.escalation
            outbox = OutboxWorker(
                services.engine,
                channels,
                lease_s=esc.outbox_lease_s,
                poll_s=esc.outbox_poll_s,
                max_backoff_s=esc.outbox_max_backoff_s,
                give_up_after_s=esc.outbox_give_up_after_s,
            )
            escalation = build_escalation(services, channels, outbox.poke)
            digests = build_digests(services, on_queued=outbox.poke) if settings.digest.enabled else None
            claims = StateMessageClaims(services.engine)
            conversation = Conversation(
                answerer,
                services.answers,
                services.conversations,
                ChromaSources(services.store, settings.store.timeout_s),
                channels,
                omo=set(omo_rooms(settings).items()),
                max_question_chars=settings.answer.max_question_chars,
                digests=digests,
                escalation=escalation.handle,
                claims=claims,
            )
            app[SERVICES] = services
            app[CONVERSATION] = conversation
            app[CHANNELS] = channels
            tasks = {
                name: asyncio.create_task(_run_channel(c, conversation), name=f"channel:{name}")
                for name, c in channels.items()
            }
            app[_CHANNEL_TASKS] = tasks
            scheduler = Scheduler(ZoneInfo(settings.digest.timezone))
            if digests is not None:  # runs at start too: a digest missed while the bot was down goes out now
                scheduler.every("digest", settings.digest.check_interval_s, digests.tick)
            scheduler.every("omo-reminders", esc.reminder_check_s, escalation.check_reminders)

            async def housekeeping() -> None:
                now = datetime.now(UTC)
                await claims.forget_before(now - timedelta(days=2))  # no platform redelivers that late
                if settings.answer.retention_days:  # AVG: questions are personal data, kept no longer than needed
                    await services.answers.forget_before(now - timedelta(days=settings.answer.retention_days))
                if esc.retention_days:
                    await SqlCaseStore(services.engine).purge(now - timedelta(days=esc.retention_days))

            scheduler.every("housekeeping", 3600, housekeeping)
            app[SCHEDULER] = scheduler
            app[OUTBOX] = outbox
            outbox_task = asyncio.create_task(outbox.run(), name="outbox")
            scheduler.start()
            log.info("serving channels: %s", ", ".join(channels) or "none")
            try:
                yield
            finally:
                await scheduler.stop()
                outbox_task.cancel()
                await asyncio.gather(outbox_task, return_exceptions=True)
                for task in tasks.values():
                    task.cancel()
                await asyncio.gather(*tasks.values(), return_exceptions=True)

    app.cleanup_ctx.append(lifecycle)
    app.router.add_get("/healthz", _healthz)
    if settings.teams.enabled and teams_channel in factories:
        # Routes must exist before the app starts; the channel itself is created in `lifecycle`.
        def current_teams() -> TeamsChannel | None:
            found = app.get(CHANNELS, {}).get("teams")
            return found if isinstance(found, TeamsChannel) else None

        app.add_subapp("/api", teams_routes(settings.teams, current_teams))
    return app


async def _healthz(request: web.Request) -> web.Response:
    """200 with each channel's state while every channel runs; 503 once one has stopped."""
    tasks = request.app[_CHANNEL_TASKS]
    states = {name: "stopped" if task.done() else "running" for name, task in tasks.items()}
    ok = all(state == "running" for state in states.values())
    return web.json_response({"ok": ok, "channels": states}, status=200 if ok else 503)
