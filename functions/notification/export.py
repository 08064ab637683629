"""Notification's part of a user's data export: the contact details it keeps, preferences
and every in-app notification."""

from __future__ import annotations

from finflow.exports import every_page
from finflow.problems import Principal
from functions.notification import logic, store

CONTACT_FIELDS = ("email", "name", "kyc_status", "roles", "registered_at")


def part(owner: Principal) -> dict:
    found = store.contact(owner.subject) or {}
    return {
        "contact": {k: found[k] for k in CONTACT_FIELDS if found.get(k) is not None},
        "preferences": logic.get_preferences(owner).model_dump(mode="json"),
        "notifications": every_page(
            lambda cursor: logic.list_notifications(owner, unread_only=False, limit=100, cursor=cursor)
        ),
    }
