"""OMO notifications: the team room's notices, the requester's updates, reminders, and what they all share.

`OmoContext` holds what the intake flow, the team's commands and the reminders use: the case store,
the channels, the OMO team's conversation per channel and the limits. `labels()` are the Dutch labels
of `prompts/omo_labels.json.j2`, read once. `Reminders.check` announces urgent cases nobody claimed.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TypedDict

from bot import prompts
from bot.core.clock import Clock
from bot.core.escalation import Case, Remind, TransitionError
from bot.core.escalation_ports import AnswerLookup, CaseNotFound, CaseStore, Outgoing, PrivateChats
from bot.core.intake import Limits
from bot.core.messages import (
    Button,
    CaseAction,
    CaseVerb,
    Channel,
    ConversationId,
    ConversationRef,
    FormField,
    FormReply,
    TextReply,
)

__all__ = ["Labels", "OmoContext", "Reminders", "labels", "notification", "text_reply"]

log = logging.getLogger(__name__)


class Labels(TypedDict):
    """The shape of `prompts/omo_labels.json.j2`: Dutch labels by kind, urgency, form field and button."""

    kinds: dict[str, str]
    urgencies: dict[str, str]
    fields: dict[str, str]
    buttons: dict[str, str]
    team_text: str


@functools.cache
def labels() -> Labels:
    """The Dutch labels of kinds, urgencies, fields and buttons (parsed once; do not change the result)."""
    loaded: Labels = json.loads(prompts.render("omo_labels.json.j2"))
    return loaded


def text_reply(template: str, **values: object) -> TextReply:
    return TextReply(prompts.render(template, labels=labels(), **values))


@dataclass(frozen=True)
class OmoContext:
    """The shared parts of the OMO service; `omo` maps a channel name to the OMO team's conversation on it."""

    store: CaseStore
    answers: AnswerLookup
    private: PrivateChats
    channels: Mapping[str, Channel]
    omo: Mapping[str, ConversationId]
    poke: Callable[[], None]
    limits: Limits
    max_chars: int
    reminder_after: timedelta
    clock: Clock

    async def reply(self, to: ConversationRef, reply: TextReply | FormReply) -> None:
        await self.channels[to.channel].send(to, reply)

    def team_room(self, channel: str) -> ConversationRef | None:
        """The OMO room on `channel`, else on any channel that has one; None when no OMO room is set."""
        if channel in self.omo:
            return ConversationRef(channel, self.omo[channel])
        for name, conversation in self.omo.items():
            return ConversationRef(name, conversation)
        return None

    def is_team_room(self, ref: ConversationRef) -> bool:
        return self.omo.get(ref.channel) == ref.conversation_id


def notification(case: Case, *, reminder: bool, max_chars: int) -> FormReply:
    """The OMO room's notice; on Teams a card with a text field and claim/answer/close buttons."""
    text = prompts.render("omo_notification.nl.j2", labels=labels(), case=case, reminder=reminder)
    lab = labels()
    buttons = tuple(Button(lab["buttons"][verb], CaseAction(verb, case.ref)) for verb in CaseVerb)
    return FormReply(text, (FormField("text", lab["team_text"], multiline=True, max_length=max_chars),), buttons)


class Reminders:
    """Announces urgent cases unclaimed for `reminder_after` again, once each."""

    def __init__(self, context: OmoContext) -> None:
        self._c = context

    async def check(self) -> int:
        """Announce urgent cases unclaimed for `reminder_after_s` again, once each (safe on every instance)."""
        now = self._c.clock()
        sent = 0
        for ref in await self._c.store.reminders_due(now - self._c.reminder_after):

            def messages(before: Case, after: Case) -> Sequence[Outgoing]:
                omo = self._c.team_room(after.requester.channel)
                if omo is None:
                    return []
                reply = notification(after, reminder=True, max_chars=self._c.max_chars)
                return [Outgoing(omo, reply, "omo_reminder", dedupe_key=f"omo_reminder:{after.ref}")]

            try:
                await self._c.store.apply(ref, Remind(now), messages)
            except (TransitionError, CaseNotFound):  # claimed or reminded meanwhile, maybe by another instance
                continue
            sent += 1
            log.info("omo: reminder for case %s", ref)
        if sent:
            self._c.poke()
        return sent
