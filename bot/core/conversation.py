"""The channel-independent conversation core: commands, questions, feedback, for every channel alike.

`Conversation.handle` is the `MessageHandler` every channel delivers to. It never raises for one bad
message: a failure is logged and the user gets the apology template. Message bodies are never logged
above DEBUG.

Nothing is lost: each message is claimed (`MessageClaims`) before it is handled and the claim is closed
once it is answered. `beat_claims` keeps this instance's claims alive and `take_over_claims` answers the
claims of an instance that stopped heart-beating (both run on the scheduler). While the state database
is unreachable a message waits (`OutageRetry`, up to `outage_retry_s`) instead of being apologised for;
once an answer went out, a storage failure after it is logged, never followed by an apology.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import uuid
from collections.abc import Awaitable, Callable, Collection, Mapping
from datetime import timedelta

from bot import prompts
from bot.core.answering import EVERYONE, PUBLIC, Answerer
from bot.core.clock import Clock, utc
from bot.core.digest_service import DigestService
from bot.core.followup import context_of
from bot.core.messages import AnswerReply, Channel, ConversationRef, IncomingMessage, SetDigest, TextReply
from bot.core.outage import OutageRetry
from bot.core.ports import AnswerEntry, AnswerId, AnswerLog, ConversationLog, MessageClaims, Sources
from bot.core.typing_notice import TypingNotice
from bot.errors import ChannelError, StoreError

__all__ = ["Conversation", "parse_command"]

log = logging.getLogger(__name__)


# Features an installation may leave off; without them these commands get a plain notice.
_OPTIONAL = {"omo": "!omo", "digest": "!digest"}
# In a chat without threads, a follow-up is read with the questions of the last half hour only: after a
# pause, "en wat kost dat?" no longer borrows the words of this morning's question.
_FLAT_CHAT_MEMORY = timedelta(minutes=30)


def _never(_exc: BaseException) -> bool:
    return False


def parse_command(text: str) -> tuple[str | None, str]:
    """Split `!vraag wat is X` into ("vraag", "wat is X"); text not starting with `!<word>` gives (None, text)."""
    body = text[1:] if text.startswith("!") else ""
    parts = body.split(maxsplit=1)
    if not parts or body[:1].isspace():
        return None, text
    return parts[0].lower(), parts[1].strip() if len(parts) > 1 else ""


class Conversation:
    """Answers questions and commands from any channel, records answers, and stores feedback.

    `channels` maps a channel name (`ConversationRef.channel`) to the channel that replies go to;
    `omo` holds (channel, conversation id) pairs of the OMO team's own rooms, where internal
    documents may be used. `clock` returns an aware UTC datetime. `is_outage` tells an error that means
    "the state database is unreachable" (retried for up to `outage_retry_s`); a claim whose owner has
    not heart-beaten for `claim_takeover_s` is taken over; "typing…" shows when an answer takes longer than
    `typing_after_s`. Times are seconds.
    """

    def __init__(
        self,
        answerer: Answerer,
        answers: AnswerLog,
        conversations: ConversationLog,
        sources: Sources,
        channels: Mapping[str, Channel],
        *,
        omo: Collection[tuple[str, str]] = (),
        clock: Clock = utc,
        max_question_chars: int = 4000,
        digests: DigestService | None = None,
        escalation: Callable[[IncomingMessage], Awaitable[bool]] | None = None,
        claims: MessageClaims | None = None,
        claim_takeover_s: float = 30.0,
        outage_retry_s: float = 300.0,
        is_outage: Callable[[BaseException], bool] = _never,
        typing_after_s: float = 1.0,
    ) -> None:
        self._answerer = answerer
        self._answers = answers
        self._conversations = conversations
        self._sources = sources
        self._channels = channels
        self._omo = frozenset(omo)
        self._clock = clock
        self._max_chars = max_question_chars
        self._digests = digests
        self._escalation = escalation  # OMO intake and team commands; True when it took the message
        self._claims = claims  # without claims (tests, the console) every delivery is handled
        # Stale after five missed sixths, so with a sweep every fifteenth (see `bot.app`) a dead owner's claim
        # is taken over within `claim_takeover_s` of its death.
        self._takeover = timedelta(seconds=claim_takeover_s * 5 / 6)
        self._outage_retry_s = outage_retry_s
        self._is_outage = is_outage
        self._typing_after_s = typing_after_s

    async def handle(self, msg: IncomingMessage) -> None:
        """Act on one message; replies go to `msg.ref` through the channel of that name.

        A message another instance (or an earlier delivery of the same message) already claimed is skipped.
        An edit claims the edited message too: if that was handled already, the answer says it is for
        the new text; if not, the original is never handled on its own.
        """
        retry = OutageRetry(self._is_outage, self._outage_retry_s)
        claims = self._claims
        try:
            if claims is not None and not await retry(lambda: claims.claim(msg, self._clock())):
                log.debug("message %s on %s was already handled", msg.message_id, msg.ref.channel)
                return
        except Exception:
            log.exception("failed to claim message %s on %s", msg.message_id, msg.ref.channel)
            await self._apologise(msg.ref)
            return
        await self._handle_claimed(msg, retry)

    async def beat_claims(self) -> None:
        """Keep this instance's open claims alive, so no other instance takes them over."""
        if self._claims is not None:
            await self._claims.heartbeat(self._clock())

    async def take_over_claims(self) -> None:
        """Answer the messages whose claims' owners stopped heart-beating (a crashed or killed instance)."""
        if self._claims is None:
            return
        now = self._clock()
        taken = await self._claims.take_over(now - self._takeover, now)
        retry = OutageRetry(self._is_outage, self._outage_retry_s)
        await asyncio.gather(*(self._handle_claimed(msg, retry) for msg in taken))

    async def _handle_claimed(self, msg: IncomingMessage, retry: OutageRetry) -> None:
        try:
            edited = await self._claim_original(msg, retry)
            await retry(
                lambda: self._conversations.remember(
                    msg.ref.channel,
                    msg.ref.conversation_id,
                    is_private=msg.is_private,
                    user_id=msg.sender,
                    at=self._clock(),
                )
            )
            await self._dispatch(msg, retry, edited=edited)
        except Exception:
            log.exception("failed to handle message %s on %s", msg.message_id, msg.ref.channel)
            await self._apologise(msg.ref)
        if self._claims is not None:
            claims = self._claims
            try:
                await retry(lambda: claims.done(msg, self._clock()))
            except Exception as exc:  # it stays claimed by this instance: never answered twice while it lives
                log.error("could not close the claim of message %s on %s: %s", msg.message_id, msg.ref.channel, exc)

    async def _claim_original(self, msg: IncomingMessage, retry: OutageRetry) -> bool:
        """For an edit, claim (and close) the edited message; True when that one was handled already."""
        claims = self._claims
        if msg.edit_of is None or claims is None:
            return False
        original = dataclasses.replace(msg, message_id=msg.edit_of, edit_of=None)
        if not await retry(lambda: claims.claim(original, self._clock())):
            return True
        await retry(lambda: claims.done(original, self._clock()))  # answered now, with the new text
        return False

    async def _dispatch(self, msg: IncomingMessage, retry: OutageRetry, *, edited: bool = False) -> None:
        if msg.feedback is not None:
            fb = msg.feedback
            answer_id = await retry(lambda: self._answers.resolve(answer_id=fb.answer_id, message_id=fb.message_id))
            if answer_id is None:
                log.debug("feedback on unknown answer %s/%s ignored", fb.answer_id, fb.message_id)
                return
            await retry(lambda: self._answers.add_feedback(answer_id, msg.sender, fb.positive, self._clock()))
            log.info("feedback %s on answer %s", "+" if fb.positive else "-", answer_id)
            return
        escalation, digests = self._escalation, self._digests
        if escalation is not None and await retry(lambda: escalation(msg)):
            return
        if msg.action is not None:
            action = msg.action
            if isinstance(action, SetDigest) and digests is not None:
                await self._send(msg.ref, await retry(lambda: digests.action(msg.ref, action)))
            else:
                await self._say(
                    msg.ref,
                    "not_available.nl.j2",
                    feature=_OPTIONAL["digest" if isinstance(action, SetDigest) else "omo"],
                )
            return
        text = msg.text.strip()
        if len(text) > self._max_chars:
            await self._say(msg.ref, "too_long.nl.j2", length=len(text), limit=self._max_chars)
            return
        command, rest = parse_command(text)
        if command is None or command == "vraag":
            question = rest
        elif command == "bronnen":
            await self._list_sources(msg.ref)
            return
        elif command == "digest" and digests is not None:
            await self._send(msg.ref, await retry(lambda: digests.command(msg.ref, rest)))
            return
        elif command in _OPTIONAL:
            await self._say(msg.ref, "not_available.nl.j2", feature=_OPTIONAL[command])
            return
        else:  # !help and anything unknown
            await self._say(msg.ref, "help.nl.j2")
            return
        if not question:
            await self._say(msg.ref, "empty_question.nl.j2")
            return
        await self._answer(msg, question, retry, edited=edited)

    async def _answer(self, msg: IncomingMessage, question: str, retry: OutageRetry, *, edited: bool = False) -> None:
        ref = msg.ref
        channel = self._channels[ref.channel]
        omo = (ref.channel, ref.conversation_id) in self._omo
        # A chat without threads (a Teams personal chat) is one conversation: recent questions carry on.
        since = None if ref.thread_id is not None else self._clock() - _FLAT_CHAT_MEMORY
        asked = await retry(
            lambda: self._answers.thread_questions(ref.channel, ref.conversation_id, ref.thread_id, since)
        )
        context = context_of(asked)
        typing = TypingNotice(channel, ref, self._typing_after_s)
        started = self._clock()
        try:
            answer = await self._answerer.answer(question, access=EVERYONE if omo else PUBLIC, context=context)
            answer_id = AnswerId(uuid.uuid4().hex)
            doc_ids = tuple(dict.fromkeys(str(c.passage.doc.doc_id) for c in answer.citations))
            ready = self._clock()
            entry = AnswerEntry(
                answer_id=answer_id,
                channel=ref.channel,
                conversation_id=ref.conversation_id,
                thread_id=ref.thread_id,
                question=question,
                doc_ids=doc_ids,
                confident=answer.confident,
                at=ready,
                text=answer.text,
                answer_ms=round((ready - started).total_seconds() * 1000),
            )
            await retry(lambda: self._answers.record(entry))
            if retry.waited and not await self._still_ours(msg, retry):
                return
            await typing.settle()
            message_id = await channel.send(ref, AnswerReply(answer=answer, answer_id=answer_id, edited=edited))
            if message_id is not None:
                try:
                    await retry(lambda: self._answers.set_message_id(answer_id, message_id))
                except StoreError as exc:  # the answer is out: no apology now, only 👍/👎 on it goes unrecorded
                    log.error("answer %s was sent but its message id could not be stored: %s", answer_id, exc)
            log.info(
                "answered in %s/%s (answer %s, %d citations)",
                ref.channel,
                ref.conversation_id,
                answer_id,
                len(answer.citations),
            )
        finally:
            await typing.clear()

    async def _still_ours(self, msg: IncomingMessage, retry: OutageRetry) -> bool:
        """After waiting out an outage: False if another instance took the claim over meanwhile (it answers)."""
        claims = self._claims
        if claims is None or await retry(lambda: claims.holds(msg)):
            return True
        log.warning("message %s on %s was taken over during the outage; left to the other instance",
                    msg.message_id, msg.ref.channel)  # fmt: skip
        return False

    async def _list_sources(self, ref: ConversationRef) -> None:
        allowed = EVERYONE if (ref.channel, ref.conversation_id) in self._omo else PUBLIC
        sources = [s for s in await self._sources.list_sources() if s.access in allowed]
        sources.sort(key=lambda s: s.title.casefold())
        await self._say(ref, "sources.nl.j2", sources=sources)

    async def _send(self, ref: ConversationRef, reply: TextReply) -> None:
        await self._channels[ref.channel].send(ref, reply)

    async def _say(self, ref: ConversationRef, template: str, **context: object) -> None:
        await self._channels[ref.channel].send(ref, TextReply(prompts.render(template, **context)))

    async def _apologise(self, ref: ConversationRef) -> None:
        channel = self._channels.get(ref.channel)
        if channel is None:
            return
        try:
            await channel.send(ref, TextReply(prompts.render("apology.nl.j2")))
        except ChannelError as exc:
            log.warning("could not send the apology on %s: %s", ref.channel, exc)
