"""Outgoing Teams activities: an `AnswerReply` as an Adaptive Card, a `TextReply` as a plain message
(a card when it has buttons), a `FormReply` as an Adaptive Card form with inputs and a submit button.

The card layout and every Dutch label live in `prompts/teams_answer_card.json.j2`; this module only
gathers the values. Citations are numbered as in the answer text (`[n]`), one line per source with
its link, section, page and version.
"""

from __future__ import annotations

import json
import re
from typing import Literal, NotRequired, TypedDict

from microsoft_agents.activity import Activity, ActivityTypes, Attachment

from bot import prompts
from bot.channels.sources import http_url, source_values
from bot.core.json_types import JsonObject
from bot.core.messages import AnswerReply, Button, FormReply, Reply, TextReply

__all__ = [
    "ADAPTIVE_CARD",
    "AdaptiveCard",
    "CardInput",
    "SubmitAction",
    "TextBlock",
    "answer_card",
    "form_card",
    "reply_activity",
    "text_card",
    "typing_activity",
]

ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"

_MARKDOWN_SPECIAL = re.compile(r"([\\\[\]()*_`])")


class TextBlock(TypedDict):
    type: Literal["TextBlock"]
    text: str
    wrap: bool


class Choice(TypedDict):
    title: str
    value: str


class CardInput(TypedDict):
    """One form field: free text (`Input.Text`) or a choice shown as radio buttons (`Input.ChoiceSet`)."""

    id: str
    label: str
    type: Literal["Input.Text", "Input.ChoiceSet"]
    style: NotRequired[Literal["expanded"]]
    choices: NotRequired[list[Choice]]
    isMultiline: NotRequired[bool]
    maxLength: NotRequired[int]
    value: NotRequired[str]


class SubmitAction(TypedDict):
    """A button; Teams posts `data` (with the inputs of the card merged in) back as the activity's value."""

    type: Literal["Action.Submit"]
    title: str
    data: dict[str, str]


AdaptiveCard = TypedDict(  # functional form: the `$schema` key is no identifier
    "AdaptiveCard",
    {
        "type": Literal["AdaptiveCard"],
        "$schema": str,
        "version": str,
        "body": list[TextBlock | CardInput],
        "actions": list[SubmitAction],
    },
)


def _md(text: str) -> str:
    """Escape markdown so a document title cannot break the link syntax of its source line."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def _card_url(url: str | None) -> str | None:
    """Only http(s) links go on a card; parentheses and spaces are percent-encoded for markdown."""
    safe = http_url(url)
    return None if safe is None else safe.replace(" ", "%20").replace("(", "%28").replace(")", "%29")


def answer_card(reply: AnswerReply) -> JsonObject:
    """The Adaptive Card (schema 1.5) for an answer, with feedback and OMO buttons carrying `answer_id`."""
    rendered = prompts.render(
        "teams_answer_card.json.j2",
        text=reply.answer.text,
        sources=source_values(reply.answer, escape=_md, link=_card_url),
        answer_id=reply.answer_id,
    )
    card: JsonObject = json.loads(rendered)  # its layout is the template's, not this module's
    return card


def _submit(button: Button) -> SubmitAction:
    return {
        "type": "Action.Submit",
        "title": button.title,
        "data": {**dict(button.action.data), "action": button.action.name},
    }


def _card(body: list[TextBlock | CardInput], actions: list[SubmitAction]) -> AdaptiveCard:
    return {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": "1.5",
        "body": body,
        "actions": actions,
    }


def text_card(reply: TextReply) -> AdaptiveCard:
    """A text with buttons; each button submits its action's name and data."""
    body: list[TextBlock | CardInput] = [{"type": "TextBlock", "text": reply.text, "wrap": True}]
    return _card(body, [_submit(b) for b in reply.buttons])


def form_card(reply: FormReply) -> AdaptiveCard:
    """A form: a TextBlock, then one labelled Input.Text or Input.ChoiceSet per field, then its buttons."""
    body: list[TextBlock | CardInput] = [{"type": "TextBlock", "text": reply.text, "wrap": True}]
    for field in reply.fields:
        item: CardInput
        if field.choices:
            choices: list[Choice] = [{"title": title, "value": value} for value, title in field.choices]
            item = {
                "id": field.name,
                "label": field.label,
                "type": "Input.ChoiceSet",
                "style": "expanded",
                "choices": choices,
            }
        else:
            item = {"id": field.name, "label": field.label, "type": "Input.Text", "isMultiline": field.multiline}
            if field.max_length is not None:
                item["maxLength"] = field.max_length
        if field.value:
            item["value"] = field.value
        body.append(item)
    return _card(body, [_submit(b) for b in reply.buttons])


def _card_activity(card: AdaptiveCard, summary: str) -> Activity:
    return Activity(
        type=ActivityTypes.message,
        summary=summary,
        attachments=[Attachment(content_type=ADAPTIVE_CARD, content=card)],
    )


def reply_activity(reply: Reply) -> Activity:
    """The message activity for a reply; addressing is filled in by the SDK from the conversation reference."""
    if isinstance(reply, TextReply):
        if reply.buttons:
            return _card_activity(text_card(reply), reply.text[:200])
        return Activity(type=ActivityTypes.message, text=reply.text, text_format="markdown")
    if isinstance(reply, FormReply):
        return _card_activity(form_card(reply), reply.text[:200])
    summary = prompts.render("teams_answer_summary.nl.j2", question=reply.answer.question)
    return Activity(
        type=ActivityTypes.message,
        summary=summary,
        attachments=[Attachment(content_type=ADAPTIVE_CARD, content=answer_card(reply))],
    )


def typing_activity() -> Activity:
    """The "bot is typing" indicator."""
    return Activity(type=ActivityTypes.typing)
