"""Microsoft Teams channel on the Microsoft 365 Agents SDK 1.9 (the successor of the archived botbuilder-core).

`TeamsChannel.mount(app)` adds `POST /api/messages` to the aiohttp application. A request passes,
in order: JWT validation by the SDK's `jwt_authorization_middleware` (on whenever `teams.app_id` is
set, tenant-aware with `teams.tenant_id`; anonymous only with `teams.allow_anonymous`), where any
failure, also one the SDK does not expect, is a 401 (signing keys come from `teams_keys`, so a
forged token never makes the bot fetch keys); a body that is not `application/json` is a 415; a
shape check of the activity (400 for a malformed one); in anonymous mode, an activity whose
`serviceUrl` is not on a loopback address is refused (403), and no reply ever goes to one; then
the SDK's `CloudAdapter`, which runs `TeamsAgent.on_turn`.

The turn only converts the activity (`teams_inbound.to_incoming`), remembers the conversation
reference (in memory and in the `ConversationStore`, so another instance or a restart can still
write there) and hands the message to the core in a task of its own: the HTTP request is answered
202 at once and a slow LLM never makes the Bot Service retry. The core answers through `send`, which
continues the conversation from the stored reference (`continue_conversation_with_claims`) and
replies to the message answered (`/v3/conversations/{id}/activities/{replyToId}`), or posts into the
conversation when there is none. Every outbound call is bounded by `teams.request_timeout_s`.

We use a bare SDK `Agent` rather than `AgentApplication`: this bot needs no SDK state, storage,
routing or OAuth, and the delivery rules are ours (`teams_inbound`).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import warnings
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web
from microsoft_agents.activity import Activity, ConversationReference
from microsoft_agents.authentication.msal import MsalConnectionManager
from microsoft_agents.hosting.aiohttp import CloudAdapter, jwt_authorization_middleware
from microsoft_agents.hosting.core import AgentAuthConfiguration, ClaimsIdentity, TurnContext
from microsoft_agents.hosting.core.authorization.jwt.jwt_token_validator import JwtTokenValidator
from pydantic import ValidationError

from bot.adapters.state import ConversationRecord, ConversationStore
from bot.channels.lifecycle import ChannelBase, HandlerTasks
from bot.channels.teams_cards import reply_activity, typing_activity
from bot.channels.teams_inbound import CHANNEL, ActivityShapeError, check_activity, is_private, to_incoming
from bot.channels.teams_keys import SigningKeys, install
from bot.config import TeamsSettings
from bot.core.clock import Clock, utc
from bot.core.messages import Capability, Channel, ConversationId, ConversationRef, MessageHandler, Reply
from bot.errors import ChannelError, StoreError

__all__ = ["MESSAGES_PATH", "TeamsChannel", "auth_configuration", "teams_routes"]

log = logging.getLogger(__name__)

MESSAGES_PATH = "/api/messages"
_CLAIMS_KEY = "claims_identity"  # where the SDK middleware puts the validated identity
_SDK_CONFIG_KEY = "agent_configuration"  # a plain string key: the SDK middleware reads it by this name


def _loopback(url: str | None) -> bool:
    """Whether `url` points at this machine (127.0.0.0/8, ::1 or localhost)."""
    host = urlsplit(url or "").hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def auth_configuration(settings: TeamsSettings) -> AgentAuthConfiguration:
    """The SDK's service connection: authenticated whenever `app_id` is set, anonymous only when allowed."""
    secret = settings.app_password.get_secret_value() if settings.app_password else None
    return AgentAuthConfiguration(
        client_id=settings.app_id or None,
        tenant_id=settings.tenant_id or None,
        client_secret=secret,
        anonymous_allowed=settings.allow_anonymous and not settings.app_id,
        validate_issuer=bool(settings.app_id and settings.tenant_id),
    )


@web.middleware
async def _auth_failures_are_401(request: web.Request, handler: Callable[..., Any]) -> web.StreamResponse:
    """Turn any error raised while validating a token (not while handling the request) into a 401."""
    try:
        response: web.StreamResponse = await handler(request)
    except Exception as exc:  # auth boundary: a token the SDK chokes on is still just a bad token
        if _CLAIMS_KEY in request:
            raise
        log.warning("teams: token rejected (%s)", type(exc).__name__)
        return web.json_response({"error": "Invalid token or authentication failed."}, status=401)
    return response


def teams_routes(settings: TeamsSettings, channel: Callable[[], Channel | None]) -> web.Application:
    """A sub-application with `POST /messages` behind the SDK's JWT middleware, to mount at `/api`.

    `channel` is looked up per request, so the routes can be added when the app is built and the
    channel created later, once the state database is open; until then (or with no channel) it is a 503.
    """
    if not isinstance(JwtTokenValidator._jwk_client_manager, SigningKeys):
        install(SigningKeys(timeout_s=settings.request_timeout_s))
    sub = web.Application(middlewares=[_auth_failures_are_401, jwt_authorization_middleware])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # aiohttp's NotAppKeyWarning: the SDK dictates this key
        sub[_SDK_CONFIG_KEY] = auth_configuration(settings)

    async def post(request: web.Request) -> web.StreamResponse:
        current = channel()
        if not isinstance(current, TeamsChannel):
            return web.json_response({"error": "the Teams channel is not running yet"}, status=503)
        return await current.handle_post(request)

    sub.router.add_post("/messages", post)
    return sub


class TeamsAgent:
    """The SDK `Agent`: one turn per incoming activity, handed to `TeamsChannel.on_activity`."""

    def __init__(self, channel: TeamsChannel) -> None:
        self._channel = channel

    async def on_turn(self, context: TurnContext) -> None:
        await self._channel.on_activity(context.activity)


class TeamsChannel(ChannelBase):
    """The Teams adapter behind the `Channel` protocol (see the module docstring for the request path)."""

    name = CHANNEL
    capabilities = frozenset({Capability.FORMS, Capability.BUTTONS, Capability.THREADS, Capability.PROACTIVE})

    def __init__(
        self,
        settings: TeamsSettings,
        conversations: ConversationStore,
        *,
        clock: Clock = utc,
    ) -> None:
        self._settings = settings
        self._conversations = conversations
        self._clock = clock
        self._auth = auth_configuration(settings)
        manager = MsalConnectionManager(connections_configurations={"SERVICE_CONNECTION": self._auth})
        self._adapter = CloudAdapter(connection_manager=manager)
        self._adapter.on_turn_error = None  # errors propagate to us; the SDK default posts them to the user
        self._agent = TeamsAgent(self)
        self._references: dict[str, ConversationReference] = {}  # newest reference per conversation
        self._saved: dict[str, ConversationReference] = {}  # what this instance wrote to the store
        self._handler: MessageHandler | None = None
        self._tasks = HandlerTasks(self.name)

    @property
    def anonymous(self) -> bool:
        """True when requests are accepted without a token (local testing only)."""
        return bool(self._auth.ANONYMOUS_ALLOWED)

    # -- HTTP side -------------------------------------------------------------------------------

    def mount(self, app: web.Application, prefix: str = "/api") -> None:
        """Add `POST {prefix}/messages` for this channel to `app` (see `teams_routes`)."""
        app.add_subapp(prefix, teams_routes(self._settings, lambda: self))

    async def handle_post(self, request: web.Request) -> web.StreamResponse:
        """The body of `POST /api/messages`, after authentication: shape check, then the SDK turn."""
        if self._handler is None:
            return web.json_response({"error": "the Teams channel is not running yet"}, status=503)
        if request.content_type != "application/json":
            log.info("teams: rejected a %s body", request.content_type or "untyped")
            return web.json_response({"error": "the body must be application/json"}, status=415)
        try:
            body = await request.json()
            check_activity(body)
            Activity.model_validate(body)
        except (ValueError, ActivityShapeError, ValidationError) as exc:
            reason = str(exc) if isinstance(exc, ActivityShapeError) else "malformed activity JSON"
            log.info("teams: rejected activity: %s", reason)
            return web.json_response({"error": reason}, status=400)
        if self.anonymous and not _loopback(body["serviceUrl"]):
            log.warning(
                "teams: anonymous mode refuses activities from serviceUrl %s (not loopback)", body["serviceUrl"]
            )
            return web.json_response({"error": "anonymous mode answers only a loopback serviceUrl"}, status=403)
        response = await self._adapter.process(request, self._agent)
        return response if response is not None else web.Response(status=202)

    async def on_activity(self, activity: Activity) -> None:
        """One incoming activity (called inside the SDK turn): remember where it came from, dispatch it."""
        if activity.type in ("message", "conversationUpdate", "installationUpdate"):
            await self._remember(activity)
        message = to_incoming(activity, self._clock())
        if message is None or self._handler is None:
            return
        self._tasks.spawn(self._handler, message)

    async def _remember(self, activity: Activity) -> None:
        reference = activity.get_conversation_reference()
        reference.activity_id = None  # a reference names the conversation, not one message in it
        conversation_id = ConversationId(activity.conversation.id)
        self._references[conversation_id] = reference
        if self._saved.get(conversation_id) == reference:
            return  # stored already by this instance; spares a database write per message
        sender = activity.from_property
        record = ConversationRecord(
            channel=CHANNEL,
            conversation_id=conversation_id,
            is_private=is_private(activity),
            user_id=(sender.aad_object_id or sender.id) if sender else None,
            reference=reference.model_dump(mode="json", by_alias=True, exclude_none=True),
        )
        try:
            await self._conversations.save(record, self._clock())
            self._saved[conversation_id] = reference
        except StoreError:  # the answer still goes out from the in-memory reference
            log.exception("teams: could not store the reference of conversation %s", conversation_id)

    # -- Channel protocol ------------------------------------------------------------------------

    async def run(self, on_message: MessageHandler) -> None:
        """Deliver messages to `on_message` until cancelled; in-flight handlers are cancelled with it."""
        if self.anonymous:
            log.warning(
                "teams: ANONYMOUS mode (teams.allow_anonymous = true, no app_id): anyone who can reach "
                "%s:%s can post activities. Use this only on a local machine.",
                self._settings.host,
                self._settings.port,
            )
        else:
            log.info("teams: accepting activities for app %s", self._settings.app_id)
        self._handler = on_message
        try:
            await asyncio.Event().wait()
        finally:
            self._handler = None
            await self._tasks.cancel_all()

    async def send(self, to: ConversationRef, reply: Reply, *, txn_id: str | None = None) -> str | None:
        """Post a reply (a card for an answer); returns the Teams activity id. Raises `ChannelError`."""
        return await self._post(to, reply_activity(reply))

    async def typing(self, to: ConversationRef, active: bool) -> None:
        """Show "typing…" (Teams clears it by itself after a few seconds or with the next message)."""
        if active:
            await self._post(to, typing_activity())

    async def _reference(self, conversation_id: ConversationId) -> ConversationReference:
        reference = self._references.get(conversation_id)
        if reference is not None:
            return reference
        record = await self._conversations.get(CHANNEL, conversation_id)
        if record is None:
            raise ChannelError(CHANNEL, f"no conversation reference stored for {conversation_id!r}")
        try:
            reference = ConversationReference.model_validate(record.reference)
        except ValidationError as exc:
            raise ChannelError(CHANNEL, f"stored reference for {conversation_id!r} is unusable") from exc
        self._references[conversation_id] = reference
        return reference

    def _claims(self) -> ClaimsIdentity:
        if self._settings.app_id:
            return self._adapter.create_claims_identity(self._settings.app_id)
        return ClaimsIdentity()  # no claims: the SDK sends without a token (anonymous mode)

    async def _post(self, to: ConversationRef, activity: Activity) -> str | None:
        reference = await self._reference(to.conversation_id)
        if self.anonymous and not _loopback(reference.service_url):
            log.warning("teams: anonymous mode sends nothing to serviceUrl %s (not loopback)", reference.service_url)
            raise ChannelError(CHANNEL, "anonymous mode sends only to a loopback serviceUrl")
        continuation = reference.get_continuation_activity()
        continuation.id = to.reply_to or to.thread_id  # None: post into the conversation, not as a reply
        sent: list[str | None] = []

        async def deliver(context: TurnContext) -> None:
            response = await context.send_activity(activity)
            sent.append(response.id if response is not None and response.id else None)

        timeout = self._settings.request_timeout_s
        try:
            async with asyncio.timeout(timeout):
                await self._adapter.continue_conversation_with_claims(self._claims(), continuation, deliver)
        except TimeoutError as exc:
            raise ChannelError(CHANNEL, f"sending timed out after {timeout:g} s") from exc
        except aiohttp.ClientResponseError as exc:
            raise ChannelError(CHANNEL, f"the connector refused the activity: {exc.status}", status=exc.status) from exc
        except (aiohttp.ClientError, ValueError, TypeError, RuntimeError) as exc:
            raise ChannelError(CHANNEL, f"sending failed: {type(exc).__name__}: {exc}") from exc
        return sent[0] if sent else None
