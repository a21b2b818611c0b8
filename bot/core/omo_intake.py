"""The OMO intake flow: an offer, then a dialogue (channels without forms) or one form, then the new case.

A dialogue runs in the requester's private chat; the case goes to the OMO room with the requester's
confirmation and, where the request began in a shared room, a note with the reference alone there.
"""

from __future__ import annotations

import logging

from bot import prompts
from bot.core.escalation import KINDS, URGENCIES, Attachment, Case, CaseRequest, Requester
from bot.core.escalation_ports import Outgoing, StoredDialogue
from bot.core.intake import advance, check_form, offer, start, yes_or_no
from bot.core.messages import (
    Button,
    Capability,
    ConversationId,
    ConversationRef,
    FormField,
    FormReply,
    IncomingMessage,
    StartIntake,
    SubmitIntake,
    TextReply,
)
from bot.core.omo_notices import OmoContext, labels, notification, text_reply

__all__ = ["IntakeFlow"]

log = logging.getLogger(__name__)


class IntakeFlow:
    """Offer, dialogue or form, and case creation; see the module docstring."""

    def __init__(self, context: OmoContext) -> None:
        self._c = context

    async def offer(self, msg: IncomingMessage) -> None:
        """Ask whether to start an intake: a button where the channel has buttons, "ja" in words everywhere."""
        ref = msg.ref
        answer_id = await self._c.answers.last_answer_id(ref.channel, ref.conversation_id)
        stored = StoredDialogue(ref.channel, msg.sender, ref.conversation_id, ref.conversation_id, answer_id, offer())
        await self._c.store.save_dialogue(stored, self._c.clock())
        button = Button(labels()["buttons"]["start"], StartIntake(answer_id))
        text = prompts.render("omo_offer.nl.j2", private=msg.is_private)
        await self._c.reply(ref, TextReply(text, buttons=(button,)))
        log.info("omo: intake offered on %s", ref.channel)

    async def answer_offer(self, msg: IncomingMessage, stored: StoredDialogue) -> bool:
        """ "ja" starts the intake, "nee" says nothing is sent; anything else lets the offer lapse (False)."""
        accepted = yes_or_no(msg.text)
        await self._c.store.drop_dialogue(stored.channel, stored.user_id)
        if accepted is None:
            return False
        if accepted:
            await self.begin(msg, answer_id=stored.answer_id)
        else:
            await self._c.reply(msg.ref, text_reply("omo_offer_declined.nl.j2"))
            log.info("omo: intake offer declined on %s", stored.channel)
        return True

    async def begin(self, msg: IncomingMessage, answer_id: str | None) -> None:
        channel, origin = msg.ref.channel, msg.ref.conversation_id
        private = origin if msg.is_private else await self._c.private.private_chat(channel, msg.sender)
        if private is None:
            await self._c.reply(msg.ref, text_reply("omo_no_private.nl.j2"))
            return
        if answer_id is None:
            answer_id = await self._c.answers.last_answer_id(channel, origin)
        target = ConversationRef(channel, private)
        if private != origin:
            await self._c.reply(msg.ref, text_reply("omo_moved_to_private.nl.j2"))
        if Capability.FORMS in self._c.channels[channel].capabilities:  # one form instead of a dialogue
            await self._c.reply(target, self._form(answer_id, origin))
            log.info("omo: intake form sent on %s", channel)
            return
        outcome = start()
        assert outcome.dialogue is not None
        stored = StoredDialogue(channel, msg.sender, private, origin, answer_id, outcome.dialogue)
        await self._c.store.save_dialogue(stored, self._c.clock())
        await self._c.reply(target, text_reply(outcome.template, limit=self._c.limits.description, **outcome.values))
        log.info("omo: intake dialogue started on %s", channel)

    def _form(self, answer_id: str | None, origin: ConversationId) -> FormReply:
        lab = labels()
        fields = lab["fields"]
        return FormReply(
            text=prompts.render("omo_form.nl.j2"),
            fields=(
                FormField("municipality", fields["municipality"], max_length=self._c.limits.field),
                FormField("kind", fields["kind"], choices=tuple((k, lab["kinds"][k]) for k in KINDS)),
                FormField("urgency", fields["urgency"], choices=tuple((u, lab["urgencies"][u]) for u in URGENCIES)),
                FormField("description", fields["description"], multiline=True, max_length=self._c.limits.description),
                FormField("contact", fields["contact"], max_length=self._c.limits.field),
            ),
            buttons=(Button(lab["buttons"]["submit"], SubmitIntake(answer_id, origin)),),
        )

    async def proceed(self, msg: IncomingMessage, stored: StoredDialogue) -> None:
        outcome = advance(stored.dialogue, msg.text, self._c.limits)
        if outcome.cancelled:
            await self._c.store.drop_dialogue(stored.channel, stored.user_id)
            await self._c.reply(msg.ref, text_reply(outcome.template))
            log.info("omo: intake cancelled on %s", stored.channel)
            return
        if outcome.done:
            await self._create(msg, stored.dialogue.request(), stored.origin_conversation_id, stored.answer_id)
            await self._c.store.drop_dialogue(stored.channel, stored.user_id)
            return
        assert outcome.dialogue is not None
        if outcome.dialogue != stored.dialogue:
            await self._c.store.save_dialogue(
                StoredDialogue(
                    stored.channel,
                    stored.user_id,
                    stored.conversation_id,
                    stored.origin_conversation_id,
                    stored.answer_id,
                    outcome.dialogue,
                ),
                self._c.clock(),
            )
        await self._c.reply(
            msg.ref, text_reply(outcome.template, **{"limit": self._c.limits.description, **outcome.values})
        )

    async def submit(self, msg: IncomingMessage, form: SubmitIntake) -> None:
        request, errors = check_form(form.fields, self._c.limits)
        if request is None:
            await self._c.reply(msg.ref, text_reply("omo_error.nl.j2", error="form", errors=errors))
            return
        await self._create(msg, request, form.origin or msg.ref.conversation_id, form.answer_id)

    async def _create(
        self, msg: IncomingMessage, request: CaseRequest, origin: ConversationId | None, answer_id: str | None
    ) -> Case:
        channel = msg.ref.channel
        private = msg.ref.conversation_id if msg.is_private else await self._c.private.private_chat(channel, msg.sender)
        attachment = (await self._c.answers.attachment(answer_id) if answer_id else None) or Attachment()
        requester = Requester(channel, msg.sender, msg.sender_name, private, origin)
        omo = self._c.team_room(channel)

        def messages(case: Case) -> list[Outgoing]:
            out: list[Outgoing] = []
            if omo is not None:
                out.append(Outgoing(omo, notification(case, reminder=False, max_chars=self._c.max_chars), "omo_new"))
            if private is not None:
                out.append(
                    Outgoing(
                        ConversationRef(channel, private),
                        text_reply("omo_confirmation.nl.j2", case=case),
                        "omo_confirm",
                    )
                )
            if origin and origin != private:
                out.append(
                    Outgoing(
                        ConversationRef(channel, origin),
                        text_reply("omo_forwarded.nl.j2", ref=case.ref),
                        "omo_forwarded",
                    )
                )
            return out

        case = await self._c.store.create(request, requester, attachment, answer_id, self._c.clock(), messages)
        self._c.poke()
        log.info("omo: case %s created on %s (urgency %s)", case.ref, channel, request.urgency)
        if omo is None:
            log.error(
                "omo: case %s has no OMO room to go to (set matrix.omo_room or teams.omo_conversation_id)", case.ref
            )
        return case
