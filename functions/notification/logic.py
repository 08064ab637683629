"""Notification's rules: who hears about what, on which channels, at most once.

Every notification goes through `notify`: per channel the user allows, a delivery is
claimed in the store (unique per event, user, template and channel)
before anything is sent, so a redelivered event sends nothing twice. In-app comes first
and is idempotent on its own (its id is derived from that key), so a failing email never
loses it. An email or SMS that certainly did not go out (`failed`) is tried again when
the event comes back: the consumer reports the record as failed, SQS redelivers it, and
only the failed channel is re-claimed. One whose outcome is unknown is never re-sent.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from finflow import contracts, events, ids, pages
from finflow.config import settings
from finflow.observability import for_module
from finflow.problems import Principal, Problem, require_user
from finflow.service_auth import token_provider
from finflow.service_client import ServiceUnavailable, client_for
from functions.notification import channels, messages, store
from functions.notification.messages import Message
from functions.notification.schemas import (
    DEFAULT_PREFERENCES,
    Notification,
    NotificationPage,
    Preferences,
    PreferencesOut,
)

obs = for_module("notification")
_IDS = uuid.UUID("6f1c2f5e-8d0a-4c1e-9a51-2b8e4d7c9f30")  # namespace of derived in-app ids


class RetryLater(Exception):
    """Raised after an event was handled as far as it could be: some send must be tried
    again (the record is reported failed, and SQS brings the event back)."""


class ContactUnavailable(Exception):
    """The user's contact details are not known here and Auth cannot be asked right now."""


# --- preferences -------------------------------------------------------------------------


def preferences_of(user_id: str) -> PreferencesOut:
    doc = store.preferences(user_id)
    if doc is None:
        return DEFAULT_PREFERENCES
    return PreferencesOut(email=doc["email"], sms=doc["sms"], in_app=doc["in_app"], phone=doc.get("phone"))


def get_preferences(p: Principal) -> PreferencesOut:
    require_user(p)
    return preferences_of(p.subject)


def put_preferences(p: Principal, body: Preferences) -> PreferencesOut:
    require_user(p)
    if body.sms and not body.phone:
        raise Problem(422, "sms notifications need a phone number (E.164, e.g. +14155550123)")
    prefs = PreferencesOut(email=body.email, sms=body.sms, in_app=body.in_app, phone=body.phone)
    store.save_preferences(p.subject, **prefs.model_dump())
    return prefs


# --- reading in-app notifications ----------------------------------------------------------


def _out(doc: dict) -> Notification:
    return Notification(
        id=doc["id"],
        type=doc["type"],
        title=doc["title"],
        body=doc["body"],
        data=doc["data"],
        read=doc["read"],
        created_at=doc["created_at"],
    )


def _cursor(doc: dict) -> str:
    # at the milliseconds both store adapters keep, so the next page neither skips nor repeats
    return pages.encode_cursor("n", store.ms(doc["created_at"]), doc["id"])


def list_notifications(p: Principal, *, unread_only: bool, limit: int, cursor: str | None) -> NotificationPage:
    require_user(p)
    docs = store.notifications_page(
        p.subject, unread_only=unread_only, before=pages.decode_cursor("n", cursor), limit=limit + 1
    )
    more = len(docs) > limit
    return NotificationPage(
        items=[_out(d) for d in docs[:limit]], next_cursor=_cursor(docs[limit - 1]) if more else None
    )


def mark_read(p: Principal, notification_id: str) -> Notification:
    require_user(p)
    canonical = ids.canonical(notification_id)
    doc = store.mark_read(p.subject, canonical) if canonical else None
    if doc is None:
        raise Problem(404, "Notification not found")  # the same answer for someone else's
    return _out(doc)


# --- contacts: event-carried state, Auth's API only for a user no event has told us about ---


def auth_client():
    s = settings()
    return client_for(
        "auth", s.api_url, timeout=s.service_timeout_seconds, token_provider=token_provider("notification")
    )


def _known_contact(user_id: str) -> dict | None:
    """The contact from Auth's events; for a user none has reached us yet (events consumed
    out of order, users older than this module) asked once of Auth's API and kept."""
    found = store.contact(user_id)
    if found and (found.get("email") or found.get("erased_at")):
        return found  # an erased user is never looked up again
    if ids.canonical(user_id) is None:
        return found
    try:
        response = auth_client().request("GET", f"/api/auth/users/{user_id}")
    except ServiceUnavailable as exc:
        raise ContactUnavailable(str(exc)) from None
    if response.status_code in (403, 404):
        return found
    if not response.is_success:
        raise ContactUnavailable(f"auth-service answered {response.status_code}")
    user = contracts.NotificationReadsUserView.model_validate(response.json())
    store.upsert_contact(user.id, email=user.email, name=user.name, registered_at=user.created_at)
    # Auth's answer is its state now: events produced before it are older and lose.
    at = datetime.now(UTC)
    store.apply_kyc_status(user.id, user.kyc_status, at)
    store.apply_roles(user.id, user.roles, at)
    return store.contact(user.id)


def _name_of(user_id: str | None) -> str | None:
    if not user_id:
        return None
    try:
        found = _known_contact(user_id)
    except ContactUnavailable:
        found = store.contact(user_id)
    return (found or {}).get("name")


# --- sending -----------------------------------------------------------------------------------


def _in_app(key: dict, msg: Message) -> None:
    delivery = {**key, "channel": "in_app"}
    # storing is idempotent (the id is derived from the key), so even an unfinished claim may be redone
    if store.claim_delivery(delivery, to=None, retry_from=("sending", "failed")) is None:
        return
    notification_id = str(uuid.uuid5(_IDS, f"{key['event_id']}|{key['user_id']}|{key['template']}"))
    store.insert_notification(
        {
            "id": notification_id,
            "user_id": key["user_id"],
            "type": msg.template,
            "title": msg.title,
            "body": msg.body,
            "data": msg.data,
            "mentions": list(msg.mentions),
            "event_id": key["event_id"],
            "created_at": store.now(),
        }
    )
    store.finish_delivery(delivery, "sent", provider_id=notification_id)


def _send(key: dict, to: str, send: Callable[[], str]) -> bool:
    """Claim, then send once; True when it certainly failed and is worth another try."""
    if store.claim_delivery(key, to=to, retry_from=("failed",)) is None:
        return False  # sent, being sent, rejected or of unknown outcome: never again
    try:
        provider_id = send()
    except channels.SendError as exc:
        store.finish_delivery(key, exc.status, error=exc.reason)
        obs.logger.warning(
            "notification send did not succeed",
            extra={
                "channel": key["channel"],
                "status": exc.status,
                "reason": exc.reason,
                "event_id": key["event_id"],
                "user_id": key["user_id"],
            },
        )
        return exc.status == "failed"
    store.finish_delivery(key, "sent", provider_id=provider_id)
    return False


def notify(event_id: str, user_id: str, msg: Message) -> bool:
    """Send `msg` to `user_id` on every channel they allow, at most once per (event, user,
    template, channel). True if some send must be retried later."""
    if (store.contact(user_id) or {}).get("erased_at"):
        return False  # an erased user hears nothing more (and nothing about them is stored)
    prefs = preferences_of(user_id)
    key = {"event_id": event_id, "user_id": user_id, "template": msg.template}
    retry = False
    if prefs.in_app:
        _in_app(key, msg)
    if prefs.email:
        try:
            email = (_known_contact(user_id) or {}).get("email")
        except ContactUnavailable as exc:
            obs.logger.warning("no contact details yet; email left for the retry", extra={"reason": str(exc)})
            email, retry = None, True
        if email:
            retry |= _send(
                {**key, "channel": "email"}, email, lambda: channels.send_email(email, msg.title, msg.email_text)
            )
        elif not retry:
            obs.logger.info("no email address known for user", extra={"user_id": user_id})
    if prefs.sms and prefs.phone:
        phone = prefs.phone
        retry |= _send({**key, "channel": "sms"}, phone, lambda: channels.send_sms(phone, msg.sms_text))
    return retry


def _notify_all(event: events.Event, targets: list[tuple[str, Message]]) -> None:
    retry = False
    for user_id, msg in targets:
        retry |= notify(event.event_id, user_id, msg)
    if retry:
        raise RetryLater(f"{event.detail_type} {event.event_id}: a send failed and will be retried")


# --- consumers -----------------------------------------------------------------------------


def _occurred_at(event: events.Event) -> datetime:
    at = datetime.fromisoformat(event.occurred_at)
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def on_user_registered(event: events.Event) -> None:
    user = contracts.NotificationReadsUserRegistered.model_validate(event.data)
    store.upsert_contact(user.id, email=user.email, name=user.name, registered_at=user.created_at)
    store.apply_kyc_status(user.id, user.kyc_status, user.created_at)
    store.apply_roles(user.id, user.roles, user.created_at)
    targets = [(user.id, messages.welcome(user.name))]
    # handled late, the user may be verified already: then no reminder
    if (store.contact(user.id) or {}).get("kyc_status") == "pending":
        targets.append((user.id, messages.kyc_reminder()))
    _notify_all(event, targets)


def on_kyc_status_changed(event: events.Event) -> None:
    change = contracts.NotificationReadsUserKycStatusChanged.model_validate(event.data)
    store.upsert_contact(change.user_id, email=change.email, name=change.name)
    if not store.apply_kyc_status(change.user_id, change.kyc_status, change.changed_at):
        obs.logger.info("older KYC status change ignored", extra={"user_id": change.user_id})
        return
    msg = messages.kyc_changed(change.kyc_status)
    if msg is not None:
        _notify_all(event, [(change.user_id, msg)])


def on_roles_changed(event: events.Event) -> None:
    change = contracts.NotificationReadsUserRolesChanged.model_validate(event.data)
    store.apply_roles(change.user_id, change.roles, _occurred_at(event))


def on_wallet_created(event: events.Event) -> None:
    created = contracts.NotificationReadsWalletCreated.model_validate(event.data)
    _notify_all(event, [(created.user_id, messages.wallet_created(created))])


def on_wallet_status_changed(event: events.Event) -> None:
    change = contracts.NotificationReadsWalletStatusChanged.model_validate(event.data)
    _notify_all(event, [(change.user_id, messages.wallet_status(change))])


def on_payment_completed(event: events.Event) -> None:
    payment = contracts.NotificationReadsPaymentCompleted.model_validate(event.data)
    parties = (payment.from_user_id, payment.to_user_id) if payment.kind == "transfer" else ()
    names = {u: _name_of(u) for u in parties if u}
    _notify_all(event, messages.payment_messages(payment, names))


def on_aml_alert(event: events.Event) -> None:
    alert = contracts.NotificationReadsAmlAlertRaised.model_validate(event.data)
    officers = store.contacts_with_role("compliance")
    if not officers:
        obs.logger.warning("AML alert raised but no compliance officer is known", extra={"event_id": event.event_id})
    msg = messages.aml_alert(alert)
    _notify_all(event, [(officer["id"], msg) for officer in officers])


def on_user_erased(event: events.Event) -> None:
    """Pseudonymise what Notification keeps of the user. Each step can be redone, and the
    name is read before the contact loses it, so an interrupted erasure completes on retry."""
    erased = contracts.ReadsUserErased.model_validate(event.data)
    name = (store.contact(erased.user_id) or {}).get("name")
    if name:
        store.scrub_mentions(erased.user_id, name, "a former FinFlow user")
    store.erase_user_documents(erased.user_id)
    store.erase_contact(erased.user_id, erased.erased_at)
    if not store.claim_erasure(event.event_id, erased.user_id):
        obs.logger.info("erasure already applied", extra={"event_id": event.event_id})


# --- the scheduled KYC reminder ----------------------------------------------------------------


def send_kyc_reminders(
    at: datetime | None = None, *, batch: int = 100, time_left: Callable[[], bool] = lambda: True
) -> dict:
    """One reminder per user still `pending` KYC longer than KYC_REMINDER_AFTER_HOURS after
    registering. A user is marked reminded once every channel is done; a failed send leaves
    the mark off, so the next run re-sends only what failed."""
    at = at or datetime.now(UTC)
    cutoff = at - timedelta(hours=settings().kyc_reminder_after_hours)
    reminded = retry = 0
    after: str | None = None
    while time_left():
        due = store.due_kyc_reminders(cutoff, after, batch)
        if not due:
            break
        for found in due:
            after = found["id"]
            if notify(f"kyc-reminder:{found['id']}", found["id"], messages.kyc_reminder()):
                retry += 1
                continue
            store.mark_kyc_reminded(found["id"], at)
            reminded += 1
    return {"reminded": reminded, "retry_later": retry}
