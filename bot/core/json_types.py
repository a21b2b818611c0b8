"""The one type for a JSON object the code builds or reads before it has checked the values inside.

Known shapes get a `TypedDict` where they are made (an outbox payload, Matrix content, a Teams card
piece); `JsonObject` is for the rest, and a value read out of one is `object` until checked.
"""

from __future__ import annotations

from typing import TypeAlias

__all__ = ["JsonObject"]

JsonObject: TypeAlias = dict[str, object]
"""A JSON object: string keys, values opaque until checked (as `json.loads` gives it, or `json.dumps` takes it)."""
