"""Notification's request and response models."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator

E164 = re.compile(r"^\+[1-9][0-9]{1,14}$")


class Preferences(BaseModel):
    """PUT /api/notifications/preferences: the whole set (a missing phone means none)."""

    model_config = ConfigDict(extra="ignore")
    email: StrictBool
    sms: StrictBool
    in_app: StrictBool
    phone: str | None = Field(default=None, max_length=32)

    @field_validator("phone")
    @classmethod
    def _e164(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not E164.fullmatch(value):
            raise ValueError(
                "phone must be an E.164 number: + then country code and number, "
                "digits only, at most 15 (e.g. +14155550123)"
            )
        return value


class PreferencesOut(BaseModel):
    email: bool
    sms: bool
    in_app: bool
    phone: str | None


DEFAULT_PREFERENCES = PreferencesOut(email=True, sms=False, in_app=True, phone=None)


class Notification(BaseModel):
    id: str
    type: str
    title: str
    body: str
    data: dict[str, Any]
    read: bool
    created_at: datetime


class NotificationPage(BaseModel):
    items: list[Notification]
    next_cursor: str | None
