"""Opaque ids are UUIDs; anything else a client sends is an id that cannot exist."""

from __future__ import annotations

import uuid


def canonical(value: str | None) -> str | None:
    """The id as the database spells it (lower-case, hyphenated); None if it is no UUID.
    PostgreSQL also accepts other spellings, so comparisons must use this form."""
    try:
        return str(uuid.UUID(value)) if value else None
    except (ValueError, TypeError, AttributeError):
        return None
