"""OMO escalation, orchestrated: intake (Matrix dialogue, Teams form), case creation, the team's commands.

`EscalationService.handle(msg)` returns True when the message was about the OMO (an `!omo` command,
an `omo*` card action, a request in words such as "ik wil graag hulp van het OMO", which is first
confirmed, or an answer in a running intake dialogue) and has been dealt with. Case
changes go through `CaseStore` together with their outbox messages; the service then only pokes the
outbox. Case details go only to the OMO room and the requester's private chat; where a request began
in a shared room, that room hears the reference alone. Logs name references and ids, never content.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from typing import Any

from bot import prompts
from bot.core.clock import Clock, utc
from bot.core.escalation import (
    KINDS,
    URGENCIES,
    Answer,
    Attachment,
    Case,
    CaseEvent,
    CaseRef,
    CaseRequest,
    Claim,
    Close,
    Remind,
    Requester,
    TransitionError,
    event_name,
    parse_ref,
)
from bot.core.escalation_ports import AnswerLookup, CaseNotFound, CaseStore, Outgoing, PrivateChats, StoredDialogue
from bot.core.intake import Limits, Step, advance, check_form, is_cancel, offer, start, yes_or_no
from bot.core.messages import (
    Action,
    Button,
    Capability,
    CaseAction,
    CaseVerb,
    Channel,
    ConversationRef,
    FormField,
    FormReply,
    IncomingMessage,
    StartIntake,
    SubmitIntake,
    TextReply,
)
from bot.core.omo_request import asks_for_omo

__all__ = ["EscalationService"]

log = logging.getLogger(__name__)

TEAM_VERBS = {"pak": CaseVerb.CLAIM, "antwoord": CaseVerb.ANSWER, "sluit": CaseVerb.CLOSE}
"""The team's text commands (`!omo pak OMO-2026-0001`); card buttons send the same `CaseAction`."""


def labels() -> dict[str, Any]:
    """The Dutch labels of kinds, urgencies, fields and buttons."""
    loaded: dict[str, Any] = json.loads(prompts.render("omo_labels.json.j2"))
    return loaded


def _text(template: str, **values: object) -> TextReply:
    return TextReply(prompts.render(template, labels=labels(), **values))


class EscalationService:
    """See the module docstring. `omo` maps a channel name to the OMO team's conversation on it."""

    def __init__(
        self,
        store: CaseStore,
        answers: AnswerLookup,
        private: PrivateChats,
        channels: Mapping[str, Channel],
        omo: Mapping[str, str],
        *,
        poke: Callable[[], None] = lambda: None,
        limits: Limits | None = None,
        max_message_chars: int = 4000,
        reminder_after_s: float = 7200.0,
        clock: Clock = utc,
    ) -> None:
        self._store = store
        self._answers = answers
        self._private = private
        self._channels = channels
        self._omo = dict(omo)
        self._poke = poke
        self._limits = limits or Limits()
        self._max_chars = max_message_chars
        self._reminder_after = timedelta(seconds=reminder_after_s)
        self._clock = clock

    # -- routing ----------------------------------------------------------------------------------

    async def handle(self, msg: IncomingMessage) -> bool:
        """Deal with `msg` if it is about the OMO; False leaves it to the rest of the conversation core."""
        if msg.action is not None:
            return await self._action(msg, msg.action)
        text = msg.text.strip()
        if text.lower() == "!omo" or text.lower().startswith("!omo "):
            rest = text[4:].strip()
            if not rest:
                await self._start(msg, answer_id=None)
            else:
                await self._team_command(msg, rest)
            return True
        # A dialogue runs in a private chat; in a shared room only a "ja"/"nee" to an offer can be for us,
        # so other room messages cost no read.
        wanted = msg.is_private or yes_or_no(text) is not None
        stored = await self._store.dialogue(msg.ref.channel, msg.sender) if wanted else None
        if stored is not None and stored.conversation_id == msg.ref.conversation_id:
            if stored.dialogue.step is Step.OFFER:
                if await self._answer_offer(msg, stored):
                    return True
            elif text.startswith("!") and not is_cancel(text):
                return False  # another command; the dialogue waits
            else:
                await self._continue(msg, stored)
                return True
        if not text.startswith("!") and asks_for_omo(text):
            await self._offer(msg)
            return True
        return False

    async def _action(self, msg: IncomingMessage, action: Action) -> bool:
        if isinstance(action, StartIntake):
            await self._start(msg, answer_id=action.answer_id)
        elif isinstance(action, SubmitIntake):
            await self._submit_form(msg, action)
        elif isinstance(action, CaseAction):
            await self._case_action(msg, action)
        else:
            return False
        return True

    # -- intake -----------------------------------------------------------------------------------

    async def _reply(self, to: ConversationRef, reply: TextReply | FormReply) -> None:
        await self._channels[to.channel].send(to, reply)

    async def _offer(self, msg: IncomingMessage) -> None:
        """Ask whether to start an intake: a button where the channel has buttons, "ja" in words everywhere."""
        ref = msg.ref
        answer_id = await self._answers.last_answer_id(ref.channel, ref.conversation_id)
        stored = StoredDialogue(ref.channel, msg.sender, ref.conversation_id, ref.conversation_id, answer_id, offer())
        await self._store.save_dialogue(stored, self._clock())
        button = Button(labels()["buttons"]["start"], StartIntake(answer_id))
        text = prompts.render("omo_offer.nl.j2", private=msg.is_private)
        await self._reply(ref, TextReply(text, buttons=(button,)))
        log.info("omo: intake offered on %s", ref.channel)

    async def _answer_offer(self, msg: IncomingMessage, stored: StoredDialogue) -> bool:
        """ "ja" starts the intake, "nee" says nothing is sent; anything else lets the offer lapse (False)."""
        accepted = yes_or_no(msg.text)
        await self._store.drop_dialogue(stored.channel, stored.user_id)
        if accepted is None:
            return False
        if accepted:
            await self._start(msg, answer_id=stored.answer_id)
        else:
            await self._reply(msg.ref, _text("omo_offer_declined.nl.j2"))
            log.info("omo: intake offer declined on %s", stored.channel)
        return True

    async def _start(self, msg: IncomingMessage, answer_id: str | None) -> None:
        channel, origin = msg.ref.channel, msg.ref.conversation_id
        private = origin if msg.is_private else await self._private.private_chat(channel, msg.sender)
        if private is None:
            await self._reply(msg.ref, _text("omo_no_private.nl.j2"))
            return
        if answer_id is None:
            answer_id = await self._answers.last_answer_id(channel, origin)
        target = ConversationRef(channel, private)
        if private != origin:
            await self._reply(msg.ref, _text("omo_moved_to_private.nl.j2"))
        if Capability.FORMS in self._channels[channel].capabilities:  # one form instead of a dialogue
            await self._reply(target, self._form(answer_id, origin))
            log.info("omo: intake form sent on %s", channel)
            return
        outcome = start()
        assert outcome.dialogue is not None
        stored = StoredDialogue(channel, msg.sender, private, origin, answer_id, outcome.dialogue)
        await self._store.save_dialogue(stored, self._clock())
        await self._reply(target, _text(outcome.template, limit=self._limits.description, **outcome.values))
        log.info("omo: intake dialogue started on %s", channel)

    def _form(self, answer_id: str | None, origin: str) -> FormReply:
        lab = labels()
        fields = lab["fields"]
        return FormReply(
            text=prompts.render("omo_form.nl.j2"),
            fields=(
                FormField("municipality", fields["municipality"], max_length=self._limits.field),
                FormField("kind", fields["kind"], choices=tuple((k, lab["kinds"][k]) for k in KINDS)),
                FormField("urgency", fields["urgency"], choices=tuple((u, lab["urgencies"][u]) for u in URGENCIES)),
                FormField("description", fields["description"], multiline=True, max_length=self._limits.description),
                FormField("contact", fields["contact"], max_length=self._limits.field),
            ),
            buttons=(Button(lab["buttons"]["submit"], SubmitIntake(answer_id, origin)),),
        )

    async def _continue(self, msg: IncomingMessage, stored: StoredDialogue) -> None:
        outcome = advance(stored.dialogue, msg.text, self._limits)
        if outcome.cancelled:
            await self._store.drop_dialogue(stored.channel, stored.user_id)
            await self._reply(msg.ref, _text(outcome.template))
            log.info("omo: intake cancelled on %s", stored.channel)
            return
        if outcome.done:
            await self._create(msg, stored.dialogue.request(), stored.origin_conversation_id, stored.answer_id)
            await self._store.drop_dialogue(stored.channel, stored.user_id)
            return
        assert outcome.dialogue is not None
        if outcome.dialogue != stored.dialogue:
            await self._store.save_dialogue(
                StoredDialogue(
                    stored.channel,
                    stored.user_id,
                    stored.conversation_id,
                    stored.origin_conversation_id,
                    stored.answer_id,
                    outcome.dialogue,
                ),
                self._clock(),
            )
        await self._reply(msg.ref, _text(outcome.template, **{"limit": self._limits.description, **outcome.values}))

    async def _submit_form(self, msg: IncomingMessage, form: SubmitIntake) -> None:
        request, errors = check_form(form.fields, self._limits)
        if request is None:
            await self._reply(msg.ref, _text("omo_error.nl.j2", error="form", errors=errors))
            return
        await self._create(msg, request, form.origin or msg.ref.conversation_id, form.answer_id)

    async def _create(
        self, msg: IncomingMessage, request: CaseRequest, origin: str | None, answer_id: str | None
    ) -> Case:
        channel = msg.ref.channel
        private = msg.ref.conversation_id if msg.is_private else await self._private.private_chat(channel, msg.sender)
        attachment = (await self._answers.attachment(answer_id) if answer_id else None) or Attachment()
        requester = Requester(channel, msg.sender, msg.sender_name, private, origin)
        omo = self._omo_ref(channel)

        def messages(case: Case) -> list[Outgoing]:
            out: list[Outgoing] = []
            if omo is not None:
                out.append(Outgoing(omo, self._notification(case, reminder=False), "omo_new"))
            if private is not None:
                out.append(
                    Outgoing(
                        ConversationRef(channel, private), _text("omo_confirmation.nl.j2", case=case), "omo_confirm"
                    )
                )
            if origin and origin != private:
                out.append(
                    Outgoing(
                        ConversationRef(channel, origin), _text("omo_forwarded.nl.j2", ref=case.ref), "omo_forwarded"
                    )
                )
            return out

        case = await self._store.create(request, requester, attachment, answer_id, self._clock(), messages)
        self._poke()
        log.info("omo: case %s created on %s (urgency %s)", case.ref, channel, request.urgency)
        if omo is None:
            log.error(
                "omo: case %s has no OMO room to go to (set matrix.omo_room or teams.omo_conversation_id)", case.ref
            )
        return case

    def _omo_ref(self, channel: str) -> ConversationRef | None:
        if channel in self._omo:
            return ConversationRef(channel, self._omo[channel])
        for name, conversation in self._omo.items():
            return ConversationRef(name, conversation)
        return None

    def _notification(self, case: Case, *, reminder: bool) -> FormReply:
        """The OMO room's notice; on Teams a card with a text field and claim/answer/close buttons."""
        text = prompts.render("omo_notification.nl.j2", labels=labels(), case=case, reminder=reminder)
        lab = labels()
        buttons = tuple(Button(lab["buttons"][verb], CaseAction(verb, case.ref)) for verb in CaseVerb)
        return FormReply(
            text, (FormField("text", lab["team_text"], multiline=True, max_length=self._max_chars),), buttons
        )

    # -- the team's commands ----------------------------------------------------------------------

    async def _team_command(self, msg: IncomingMessage, rest: str) -> None:
        """`!omo lijst`, or a text command that becomes the `CaseAction` a card button sends."""
        if self._omo.get(msg.ref.channel) != msg.ref.conversation_id:
            await self._reply(msg.ref, _text("omo_error.nl.j2", error="not_omo_room"))
            return
        parts = rest.split(maxsplit=2)
        word = parts[0].lower()
        verb = TEAM_VERBS.get(word)
        if word == "lijst":
            await self._reply(msg.ref, _text("omo_team.nl.j2", event="list", cases=await self._store.list_cases()))
        elif verb is None:
            await self._reply(msg.ref, _text("omo_error.nl.j2", error="usage"))
        else:
            text = parts[2].strip() if len(parts) > 2 else ""
            await self._case_action(msg, CaseAction(verb, parts[1] if len(parts) > 1 else "", text))

    async def _case_action(self, msg: IncomingMessage, action: CaseAction) -> None:
        if self._omo.get(msg.ref.channel) != msg.ref.conversation_id:
            await self._reply(msg.ref, _text("omo_error.nl.j2", error="not_omo_room"))
            return
        ref = parse_ref(action.ref)
        if ref is None:
            await self._reply(msg.ref, _text("omo_error.nl.j2", error="bad_ref"))
            return
        text = action.text.strip()
        if len(text) > self._max_chars:
            await self._reply(
                msg.ref, _text("omo_error.nl.j2", error="too_long", length=len(text), limit=self._max_chars)
            )
            return
        now, name = self._clock(), msg.sender_name
        event: CaseEvent
        if action.verb is CaseVerb.CLAIM:
            event = Claim(msg.sender, name, now)
        elif action.verb is CaseVerb.ANSWER:
            if not text:
                await self._reply(msg.ref, _text("omo_error.nl.j2", error="empty_text", ref=ref))
                return
            event = Answer(msg.sender, name, now, text)
        else:
            event = Close(msg.sender, name, now, text or None)
        await self._apply(msg.ref, ref, event)

    async def _apply(self, room: ConversationRef, ref: CaseRef, event: CaseEvent) -> None:
        try:
            await self.apply(ref, event, room)
        except CaseNotFound:
            await self._reply(room, _text("omo_error.nl.j2", error="not_found", ref=ref))
        except TransitionError as exc:
            await self._reply(room, _text("omo_error.nl.j2", error=exc.reason, ref=ref))

    async def apply(self, ref: CaseRef, event: CaseEvent, room: ConversationRef | None = None) -> Case:
        """Apply a team member's claim, answer or close (from a chat command or the web console).

        The requester hears of it in their private chat, and `room` (default: the OMO room of the
        case's channel) gets the team notice; both go through the outbox in the case's transaction.
        Raises `CaseNotFound` or `TransitionError`.
        """
        kind = event_name(event)

        def messages(before: Case, after: Case) -> Sequence[Outgoing]:
            team_room = room or self._omo_ref(after.requester.channel)
            out = []
            if team_room is not None:
                out.append(Outgoing(team_room, _text("omo_team.nl.j2", event=kind, case=after), f"omo_team_{kind}"))
            requester = after.requester
            if requester.private_conversation_id is not None:
                values = {"event": kind, "case": after, "text": getattr(event, "text", None)}
                values["actor_name"] = getattr(event, "actor_name", None)
                reply = _text("omo_update.nl.j2", **values)
                out.append(
                    Outgoing(
                        ConversationRef(requester.channel, requester.private_conversation_id), reply, f"omo_{kind}"
                    )
                )
            return out

        case = await self._store.apply(ref, event, messages)
        self._poke()
        log.info("omo: case %s %s", ref, kind)
        return case

    # -- reminders --------------------------------------------------------------------------------

    async def check_reminders(self) -> int:
        """Announce urgent cases unclaimed for `reminder_after_s` again, once each (safe on every instance)."""
        now = self._clock()
        sent = 0
        for ref in await self._store.reminders_due(now - self._reminder_after):

            def messages(before: Case, after: Case) -> Sequence[Outgoing]:
                omo = self._omo_ref(after.requester.channel)
                if omo is None:
                    return []
                reply = self._notification(after, reminder=True)
                return [Outgoing(omo, reply, "omo_reminder", dedupe_key=f"omo_reminder:{after.ref}")]

            try:
                await self._store.apply(ref, Remind(now), messages)
            except (TransitionError, CaseNotFound):  # claimed or reminded meanwhile, maybe by another instance
                continue
            sent += 1
            log.info("omo: reminder for case %s", ref)
        if sent:
            self._poke()
        return sent
