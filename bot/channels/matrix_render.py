"""Matrix message content for replies: a threaded reply with a plain body and an escaped HTML body."""

from __future__ import annotations

from typing import NotRequired, TypedDict

from bot import prompts
from bot.channels.sources import source_values
from bot.core.messages import AnswerReply, ConversationRef, Reply, TextReply
from bot.core.models import Answer

__all__ = ["MessageContent", "render_content"]


class InReplyTo(TypedDict):
    event_id: str


# Matrix keys hold dots (`m.in_reply_to`), so these two use the functional form.
Relation = TypedDict(
    "Relation",
    {
        "rel_type": NotRequired[str],
        "event_id": NotRequired[str],
        "is_falling_back": NotRequired[bool],
        "m.in_reply_to": InReplyTo,
    },
)
"""`m.relates_to`: a thread (`m.thread`, with a reply fallback for clients without threads) or a plain reply."""

MessageContent = TypedDict(
    "MessageContent",
    {
        "msgtype": str,
        "body": str,
        "format": NotRequired[str],
        "formatted_body": NotRequired[str],
        "m.mentions": dict[str, list[str]],
        "m.relates_to": NotRequired[Relation],
    },
)
"""The content of an `m.room.message` the bot sends."""


def _relation(to: ConversationRef) -> Relation | None:
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


def render_content(to: ConversationRef, reply: Reply) -> MessageContent:
    """`m.room.message` content for `reply`: answers get HTML with linked sources; all are `m.notice`
    unless a `TextReply` asks otherwise (other bots ignore notices, so bots never talk in circles).
    """
    content: MessageContent
    if isinstance(reply, AnswerReply):
        note = prompts.render("answer_edited.nl.j2") if reply.edited else None
        body = prompts.render("answer.nl.j2", answer=reply.answer)
        content = {
            "msgtype": "m.notice",
            "body": f"{note}\n\n{body}" if note else body,
            "format": "org.matrix.custom.html",
            "formatted_body": _html(reply.answer, note),
            "m.mentions": {},
        }
    else:
        notice = reply.notice if isinstance(reply, TextReply) else True  # a form is sent as its text alone
        content = {"msgtype": "m.notice" if notice else "m.text", "body": reply.text, "m.mentions": {}}
    relation = _relation(to)
    if relation is not None:
        content["m.relates_to"] = relation
    return content
