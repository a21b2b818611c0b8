"""Composition root: the only place that picks concrete classes and wires them together.

On the services of `bot.services` it builds the channels, escalation and digest, and `build_app`, the
aiohttp application that `onrust serve` runs (Teams endpoint, Matrix sync and the scheduler start and stop
with it through `cleanup_ctx`). Only `onrust serve` and `onrust digest` import it: it loads every chat SDK.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import timedelta
from zoneinfo import ZoneInfo

from aiohttp import web

from bot.adapters.cases import SqlCaseStore
from bot.adapters.conversation_stores import ChromaSources, StateMessageClaims
from bot.adapters.db import is_unreachable, ping
from bot.adapters.digest_store import CaseDigestSource, DigestStore
from bot.adapters.escalation_support import SqlAnswerLookup, StatePrivateChats
from bot.adapters.outbox import OutboxWorker
from bot.adapters.scheduler import Scheduler
from bot.channels.registry import PLUGINS, ChannelPlugin, omo_rooms
from bot.config import Settings
from bot.console import console_app
from bot.core.answering import Answerer
from bot.core.clock import utc
from bot.core.conversation import Conversation
from bot.core.digest_service import DigestPolicy, DigestService, OpenCases
from bot.core.escalation_service import EscalationService
from bot.core.intake import Limits
from bot.core.messages import Channel
from bot.core.models import DocId
from bot.services import Services, build_answerer, open_services

__all__ = [
    "CHANNELS",
    "CONVERSATION",
    "ESCALATION",
    "OUTBOX",
    "SCHEDULER",
    "SERVICES",
    "build_app",
    "build_digests",
    "build_escalation",
]

log = logging.getLogger(__name__)


SERVICES = web.AppKey("services", Services)
SCHEDULER = web.AppKey("scheduler", Scheduler)
OUTBOX = web.AppKey("outbox", OutboxWorker)
CONVERSATION = web.AppKey("conversation", Conversation)
CHANNELS = web.AppKey("channels", dict[str, Channel])
ESCALATION = web.AppKey("escalation", EscalationService)


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

    async def titles(doc_ids: Sequence[str]) -> dict[str, tuple[str, str | None]]:
        async with asyncio.timeout(settings.store.timeout_s):
            docs = await asyncio.to_thread(services.store.document_infos, [DocId(d) for d in doc_ids])
        return {d: (docs[DocId(d)].title, docs[DocId(d)].url) for d in doc_ids if DocId(d) in docs}

    return EscalationService(
        SqlCaseStore(services.engine),
        SqlAnswerLookup(services.engine, titles),
        StatePrivateChats(services.conversations, channels),
        channels,
        {name: conv for name, conv in omo_rooms(settings).items() if name in channels},
        poke=poke,
        limits=Limits(description=cfg.max_description_chars, field=cfg.max_field_chars),
        max_message_chars=settings.answer.max_question_chars,
        reminder_after_s=cfg.reminder_after_s,
    )


async def _housekeeping(services: Services, claims: StateMessageClaims) -> None:
    """The hourly clean-up: old message claims, and answers and closed cases past their retention."""
    settings = services.settings
    now = utc()
    await claims.forget_before(now - timedelta(days=2))  # no platform redelivers that late
    if settings.answer.retention_days:  # AVG: questions are personal data, kept no longer than needed
        await services.answers.forget_before(now - timedelta(days=settings.answer.retention_days))
    if settings.escalation.retention_days:
        await SqlCaseStore(services.engine).purge(now - timedelta(days=settings.escalation.retention_days))


async def _outbox_job(app: web.Application) -> AsyncIterator[None]:
    """The outbox worker of `lifecycle` delivers from start-up until the app stops."""
    task = asyncio.create_task(app[OUTBOX].run(), name="outbox")
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def _scheduler_job(app: web.Application) -> AsyncIterator[None]:
    """The periodic jobs of `lifecycle` (digest, OMO reminders, claims, housekeeping) run until the app stops."""
    scheduler = app[SCHEDULER]
    scheduler.start()
    try:
        yield
    finally:
        await scheduler.stop()


def build_app(
    settings: Settings,
    *,
    plugins: Sequence[ChannelPlugin] = PLUGINS,
    answerer_factory: Callable[[Services], Answerer] = build_answerer,
) -> web.Application:
    """The server of `onrust serve`: every configured channel delivering to one `Conversation`,
    `GET /healthz` (liveness) and `GET /readyz` (readiness). Services open and channels start with the
    app (`cleanup_ctx`) and stop with it.
    """
    app = web.Application()

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        async with open_services(settings) as services:
            answerer = await asyncio.to_thread(answerer_factory, services)  # loads models: off the loop
            channels = {c.name: c for c in (p.build(services) for p in plugins) if c is not None}
            esc = settings.escalation
            outbox = OutboxWorker(
                services.engine,
                channels,
                lease_s=esc.outbox_takeover_s,
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
                typing_after_s=settings.answer.typing_after_s,
                digests=digests,
                escalation=escalation.handle,
                claims=claims,
                claim_takeover_s=settings.state.claim_takeover_s,
                outage_retry_s=settings.state.outage_retry_s,
                is_outage=is_unreachable,
            )
            app[SERVICES] = services
            app[CONVERSATION] = conversation
            app[CHANNELS] = channels
            app[ESCALATION] = escalation
            for channel in channels.values():
                await channel.start(conversation.handle)
            scheduler = Scheduler(ZoneInfo(settings.digest.timezone))
            if digests is not None:  # runs at start too: a digest missed while the bot was down goes out now
                scheduler.every("digest", settings.digest.check_interval_s, digests.tick)
            scheduler.every("omo-reminders", esc.reminder_check_s, escalation.check_reminders)
            # runs at start too: a claim a crashed predecessor left is answered as soon as it is stale
            scheduler.every("claim-heartbeat", settings.state.claim_takeover_s / 6, conversation.beat_claims)
            scheduler.every("claim-takeover", settings.state.claim_takeover_s / 15, conversation.take_over_claims)
            scheduler.every("housekeeping", 3600, functools.partial(_housekeeping, services, claims))
            app[SCHEDULER] = scheduler
            app[OUTBOX] = outbox
            log.info("serving channels: %s", ", ".join(channels) or "none")
            try:
                yield
            finally:
                await asyncio.gather(*(c.stop() for c in channels.values()))

    app.cleanup_ctx.extend([lifecycle, _outbox_job, _scheduler_job])  # stopped in reverse order
    app.router.add_get("/healthz", _healthz)
    app.router.add_get("/readyz", _readyz)
    for plugin in plugins:
        # Routes must exist before the app starts; the channel itself is created in `lifecycle`.
        for prefix, routes in plugin.routes(settings, _lookup(app, plugin.name)).items():
            app.add_subapp(prefix, routes)
    if settings.console.enabled:
        app.add_subapp("/console", console_app(settings.console, lambda: app[SERVICES], lambda: app[ESCALATION]))
    return app


def _lookup(app: web.Application, name: str) -> Callable[[], Channel | None]:
    return lambda: app.get(CHANNELS, {}).get(name)


def _channel_states(app: web.Application) -> dict[str, str]:
    return {name: "running" if c.running else "stopped" for name, c in app[CHANNELS].items()}


async def _healthz(request: web.Request) -> web.Response:
    """Liveness: 200 with each channel's state while every channel runs; 503 once one has stopped."""
    states = _channel_states(request.app)
    ok = all(state == "running" for state in states.values())
    return web.json_response({"ok": ok, "channels": states}, status=200 if ok else 503)


async def _readyz(request: web.Request) -> web.Response:
    """Readiness: 200 while the state database and the vector store answer and every channel runs, else 503.

    A question arriving while the database is down waits for it (`state.outage_retry_s`), so an instance
    that is not ready is still alive: take it out of rotation, do not restart it.
    """
    services = request.app[SERVICES]
    timeout_s = services.settings.store.timeout_s

    async def check(probe: Callable[[], Awaitable[object]]) -> str:
        try:
            async with asyncio.timeout(timeout_s):
                await probe()
        except Exception as exc:  # boundary: any failure means not ready
            log.warning("readiness: %s", type(exc).__name__)
            return "unreachable"
        return "ok"

    database = await check(lambda: ping(services.engine))
    store = await check(lambda: asyncio.to_thread(services.store.count))
    channels = _channel_states(request.app)
    ok = database == store == "ok" and all(state == "running" for state in channels.values())
    report = {"ok": ok, "database": database, "store": store, "channels": channels}
    return web.json_response(report, status=200 if ok else 503)
