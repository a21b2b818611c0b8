"""The OMO team's commands: `!omo lijst`, and claim, answer or close a case by text or card button.

A text command (`!omo pak OMO-2026-0001`) becomes the same `CaseAction` a card button sends, so each
is handled once. Only the OMO room may use them. `apply` is also what the web console calls.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from bot.core.escalation import Answer, Case, CaseEvent, CaseRef, Claim, Close, TransitionError, event_name, parse_ref
from bot.core.escalation_ports import CaseNotFound, Outgoing
from bot.core.messages import CaseAction, CaseVerb, ConversationRef, IncomingMessage
from bot.core.omo_notices import OmoContext, text_reply

__all__ = ["TEAM_VERBS", "TeamCommands"]

log = logging.getLogger(__name__)

TEAM_VERBS = {"pak": CaseVerb.CLAIM, "antwoord": CaseVerb.ANSWER, "sluit": CaseVerb.CLOSE}
"""The team's text commands (`!omo pak OMO-2026-0001`); card buttons send the same `CaseAction`."""


class TeamCommands:
    """See the module docstring."""

    def __init__(self, context: OmoContext) -> None:
        self._c = context

    async def command(self, msg: IncomingMessage, rest: str) -> None:
        """`!omo lijst`, or a text command that becomes the `CaseAction` a card button sends."""
        parts = rest.split(maxsplit=2)
        word = parts[0].lower()
        verb = TEAM_VERBS.get(word)
        if verb is not None:
            text = parts[2].strip() if len(parts) > 2 else ""
            await self.case_action(msg, CaseAction(verb, parts[1] if len(parts) > 1 else "", text))
        elif not self._c.is_team_room(msg.ref):
            await self._c.reply(msg.ref, text_reply("omo_error.nl.j2", error="not_omo_room"))
        elif word == "lijst":
            cases = await self._c.store.list_cases()
            await self._c.reply(msg.ref, text_reply("omo_team.nl.j2", event="list", cases=cases))
        else:
            await self._c.reply(msg.ref, text_reply("omo_error.nl.j2", error="usage"))

    async def case_action(self, msg: IncomingMessage, action: CaseAction) -> None:
        """A claim, answer or close from the OMO room; anywhere else, or for a bad reference, an error notice."""
        if not self._c.is_team_room(msg.ref):
            await self._c.reply(msg.ref, text_reply("omo_error.nl.j2", error="not_omo_room"))
            return
        ref = parse_ref(action.ref)
        if ref is None:
            await self._c.reply(msg.ref, text_reply("omo_error.nl.j2", error="bad_ref"))
            return
        text = action.text.strip()
        if len(text) > self._c.max_chars:
            await self._c.reply(
                msg.ref, text_reply("omo_error.nl.j2", error="too_long", length=len(text), limit=self._c.max_chars)
            )
            return
        now, name = self._c.clock(), msg.sender_name
        event: CaseEvent
        if action.verb is CaseVerb.CLAIM:
            event = Claim(msg.sender, name, now)
        elif action.verb is CaseVerb.ANSWER:
            if not text:
                await self._c.reply(msg.ref, text_reply("omo_error.nl.j2", error="empty_text", ref=ref))
                return
            event = Answer(msg.sender, name, now, text)
        else:
            event = Close(msg.sender, name, now, text or None)
        await self._apply(msg.ref, ref, event)

    async def _apply(self, room: ConversationRef, ref: CaseRef, event: CaseEvent) -> None:
        try:
            await self.apply(ref, event, room)
        except CaseNotFound:
            await self._c.reply(room, text_reply("omo_error.nl.j2", error="not_found", ref=ref))
        except TransitionError as exc:
            await self._c.reply(room, text_reply("omo_error.nl.j2", error=exc.reason, ref=ref))

    async def apply(self, ref: CaseRef, event: CaseEvent, room: ConversationRef | None = None) -> Case:
        """Apply a team member's claim, answer or close (from a chat command or the web console).

        The requester hears of it in their private chat, and `room` (default: the OMO room of the
        case's channel) gets the team notice; both go through the outbox in the case's transaction.
        Raises `CaseNotFound` or `TransitionError`.
        """
        kind = event_name(event)

        def messages(before: Case, after: Case) -> Sequence[Outgoing]:
            team_room = room or self._c.team_room(after.requester.channel)
            out = []
            if team_room is not None:
                out.append(
                    Outgoing(team_room, text_reply("omo_team.nl.j2", event=kind, case=after), f"omo_team_{kind}")
                )
            requester = after.requester
            if requester.private_conversation_id is not None:
                values = {"event": kind, "case": after, "text": getattr(event, "text", None)}
                values["actor_name"] = getattr(event, "actor_name", None)
                reply = text_reply("omo_update.nl.j2", **values)
                out.append(
                    Outgoing(
                        ConversationRef(requester.channel, requester.private_conversation_id), reply, f"omo_{kind}"
                    )
                )
            return out

        case = await self._c.store.apply(ref, event, messages)
        self._c.poke()
        log.info("omo: case %s %s", ref, kind)
        return case
