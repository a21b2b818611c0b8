"""OMO escalation, routed: each message goes to the intake flow (`omo_intake`) or the team's commands
(`omo_commands`); notices and reminders are `omo_notices`.

`EscalationService.handle(msg)` returns True when the message was about the OMO (an `!omo` command,
an `omo*` card action, a request in words such as "ik wil graag hulp van het OMO", which is first
confirmed, or an answer in a running intake dialogue) and has been dealt with. Case
changes go through `CaseStore` together with their outbox messages; the service then only pokes the
outbox. Case details go only to the OMO room and the requester's private chat; where a request began
in a shared room, that room hears the reference alone. Logs name references and ids, never content.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta

from bot.core.clock import Clock, utc
from bot.core.escalation import Case, CaseEvent, CaseRef
from bot.core.escalation_ports import AnswerLookup, CaseStore, PrivateChats
from bot.core.intake import Limits, Step, is_cancel, yes_or_no
from bot.core.messages import (
    Action,
    CaseAction,
    Channel,
    ConversationId,
    ConversationRef,
    IncomingMessage,
    StartIntake,
    SubmitIntake,
)
from bot.core.omo_commands import TeamCommands
from bot.core.omo_intake import IntakeFlow
from bot.core.omo_notices import OmoContext, Reminders
from bot.core.omo_request import asks_for_omo

__all__ = ["EscalationService"]


class EscalationService:
    """See the module docstring. `omo` maps a channel name to the OMO team's conversation on it."""

    def __init__(
        self,
        store: CaseStore,
        answers: AnswerLookup,
        private: PrivateChats,
        channels: Mapping[str, Channel],
        omo: Mapping[str, ConversationId],
        *,
        poke: Callable[[], None] = lambda: None,
        limits: Limits | None = None,
        max_message_chars: int = 4000,
        reminder_after_s: float = 7200.0,
        clock: Clock = utc,
    ) -> None:
        context = OmoContext(
            store,
            answers,
            private,
            channels,
            omo,
            poke,
            limits or Limits(),
            max_message_chars,
            timedelta(seconds=reminder_after_s),
            clock,
        )
        self._store = store
        self._intake = IntakeFlow(context)
        self._commands = TeamCommands(context)
        self._reminders = Reminders(context)

    # -- routing ----------------------------------------------------------------------------------

    async def handle(self, msg: IncomingMessage) -> bool:
        """Deal with `msg` if it is about the OMO; False leaves it to the rest of the conversation core."""
        if msg.action is not None:
            return await self._action(msg, msg.action)
        text = msg.text.strip()
        if text.lower() == "!omo" or text.lower().startswith("!omo "):
            rest = text[4:].strip()
            if not rest:
                await self._intake.begin(msg, answer_id=None)
            else:
                await self._commands.command(msg, rest)
            return True
        # A dialogue runs in a private chat; in a shared room only a "ja"/"nee" to an offer can be for us,
        # so other room messages cost no read.
        wanted = msg.is_private or yes_or_no(text) is not None
        stored = await self._store.dialogue(msg.ref.channel, msg.sender) if wanted else None
        if stored is not None and stored.conversation_id == msg.ref.conversation_id:
            if stored.dialogue.step is Step.OFFER:
                if await self._intake.answer_offer(msg, stored):
                    return True
            elif text.startswith("!") and not is_cancel(text):
                return False  # another command; the dialogue waits
            else:
                await self._intake.proceed(msg, stored)
                return True
        if not text.startswith("!") and asks_for_omo(text):
            await self._intake.offer(msg)
            return True
        return False

    async def _action(self, msg: IncomingMessage, action: Action) -> bool:
        if isinstance(action, StartIntake):
            await self._intake.begin(msg, answer_id=action.answer_id)
        elif isinstance(action, SubmitIntake):
            await self._intake.submit(msg, action)
        elif isinstance(action, CaseAction):
            await self._commands.case_action(msg, action)
        else:
            return False
        return True

    async def apply(self, ref: CaseRef, event: CaseEvent, room: ConversationRef | None = None) -> Case:
        """Apply a team member's claim, answer or close (from a chat command or the web console).

        The requester hears of it in their private chat, and `room` (default: the OMO room of the
        case's channel) gets the team notice; both go through the outbox in the case's transaction.
        Raises `CaseNotFound` or `TransitionError`.
        """
        return await self._commands.apply(ref, event, room)

    async def check_reminders(self) -> int:
        """Announce urgent cases unclaimed for `reminder_after_s` again, once each (safe on every instance)."""
        return await self._reminders.check()
