"""Mentions and edits as the Matrix adapter reads them from event content."""

from __future__ import annotations

import pytest

from bot.channels.matrix_events import edit_of, strip_mention

pytestmark = pytest.mark.unit

BOT = "@onrust:gemeente.nl"


@pytest.mark.parametrize(
    ("body", "content", "expected"),
    [
        ("Onrust: wat is een MIA?", {}, ("wat is een MIA?", True)),
        ("onrust, wat is een MIA?", {}, ("wat is een MIA?", True)),
        ("Er is onrust in de wijk", {}, ("Er is onrust in de wijk", False)),
        ("Onrustkaart bijgewerkt", {}, ("Onrustkaart bijgewerkt", False)),
        ("Onrust-kaart bijgewerkt", {}, ("Onrust-kaart bijgewerkt", False)),
        (f"{BOT}: wat is een MIA?", {}, ("wat is een MIA?", True)),
        (f"vraag voor {BOT} over de MIA", {}, ("vraag voor over de MIA", True)),
        (f"{BOT}x hallo", {}, (f"{BOT}x hallo", False)),
        ("wat is een MIA?", {"m.mentions": {"user_ids": [BOT]}}, ("wat is een MIA?", True)),
        ("wat is een MIA?", {"m.mentions": {"user_ids": ["@ander:gemeente.nl"]}}, ("wat is een MIA?", False)),
        ("https://matrix.to/#/%40onrust%3Agemeente.nl wat is een MIA?", {}, ("wat is een MIA?", True)),
        (
            "Onrust wat is een MIA?",
            {"formatted_body": f'<a href="https://matrix.to/#/{BOT}">Onrust</a> wat is een MIA?'},
            ("wat is een MIA?", True),
        ),
    ],
)
def test_only_real_mentions_count(body: str, content: dict[str, object], expected: tuple[str, bool]) -> None:
    assert strip_mention(body, content, BOT, "Onrust") == expected


def test_edit_carries_new_text_and_mentions_of_both_versions() -> None:
    content = {
        "body": "* nieuw",
        "m.mentions": {"user_ids": [BOT]},
        "m.new_content": {"msgtype": "m.text", "body": "nieuw", "m.mentions": {"user_ids": ["@a:b"]}},
        "m.relates_to": {"rel_type": "m.replace", "event_id": "$origineel"},
    }
    original, new = edit_of(content)  # type: ignore[misc]
    assert original == "$origineel" and new["body"] == "nieuw"
    assert new["m.mentions"] == {"user_ids": ["@a:b", BOT]}
    assert edit_of({"body": "x", "m.relates_to": {"rel_type": "m.thread", "event_id": "$t"}}) is None
    assert edit_of({"m.relates_to": {"rel_type": "m.replace", "event_id": "$t"}}) is None
