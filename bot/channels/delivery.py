"""The delivery rule of `bot.core.messages` that every channel applies the same way.

In a private chat everything is delivered; in a shared room only a message that mentions the bot
(the channel strips the mention), starts with `!`, or submits a card of the bot.
"""

from __future__ import annotations

__all__ = ["delivered"]


def delivered(text: str, *, private: bool, mentioned: bool, submitted: bool = False) -> bool:
    """Whether a message with `text` (mention stripped) is for the bot."""
    return private or mentioned or submitted or text.startswith("!")
