"""Matrix message content for replies: a threaded reply with a plain body and an escaped HTML body."""

from __future__ import annotations

from typing import Any

from bot import prompts
from bot.channels.sources import source_values
from bot.core.messages import AnswerReply, ConversationRef, Reply, TextReply
from bot.core.models import Answer

__all__ = ["render_content"]


def _relation(to: ConversationRef) -> dict[str, Any] | None:
    if to.thread_id is not None:
        return {
            "rel_type": "m.thread",
            "event_id": to.thread_id,
            "is_falling_back": True,
            "m.in_reply_to": {"event_id": to.reply_to or to.thread_id},
        }
    if to.reply_to is not None:
        return {"m.in_reply_to": {"event_id": to.reply_to}}
    return None


def _html(answer: Answer, note: str | None) -> str:
    paragraphs = [p.splitlines() for p in answer.text.split("\n\n") if p.strip()]
    return prompts.render("matrix_answer.html.j2", paragraphs=paragraphs, sources=source_values(answer), note=note)


def render_content(to: ConversationRef, reply: Reply) -> dict[str, Any]:
    """`m.room.message` content for `reply`: answers get HTML with linked sources; all are `m.notice`
    unless a `TextReply` asks otherwise (other bots ignore notices, so bots never talk in circles).
    """
    content: dict[str, Any]
    if isinstance(reply, AnswerReply):
        note = prompts.render("answer_edited.nl.j2") if reply.edited else None
        body = prompts.render("answer.nl.j2", answer=reply.answer)
        content = {
            "msgtype": "m.notice",
            "body": f"{note}\n\n{body}" if note else body,
            "format": "org.matrix.custom.html",
            "formatted_body": _html(reply.answer, note),
        }
    else:
        notice = reply.notice if isinstance(reply, TextReply) else True  # a form is sent as its text alone
        content = {"msgtype": "m.notice" if notice else "m.text", "body": reply.text}
    content["m.mentions"] = {}
    relation = _relation(to)
    if relation is not None:
        content["m.relates_to"] = relation
    return content
