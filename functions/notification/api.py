"""Notification API routes: the caller's in-app notifications and notification preferences."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from finflow.config import settings
from finflow.health import add_health
from finflow.http import Problem, documented, lambda_handler, make_resolver, principal
from functions.notification import logic, store
from functions.notification.schemas import Notification, NotificationPage, Preferences, PreferencesOut

app = make_resolver("notification", "Notification")
add_health(app, "notification", checks={"store": store.ping})  # DocumentDB or PostgreSQL (store.py)


@app.get(
    "/api/notifications",
    responses=documented(200, None, 403),
    operation_id="notification_list",
    summary="The caller's in-app notifications, newest first",
)
def list_notifications(
    unread: Annotated[bool | None, Query()] = None,
    limit: Annotated[int, Query(ge=1)] = 20,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> NotificationPage:
    if limit > settings().page_size_max:
        raise Problem(422, f"limit must be at most {settings().page_size_max}")
    return logic.list_notifications(principal(app), unread_only=bool(unread), limit=limit, cursor=cursor)


@app.post(
    "/api/notifications/<notification_id>/read",
    responses=documented(200, None, 403, 404),
    operation_id="notification_mark_read",
    summary="Mark a notification read",
)
def mark_read(notification_id: Annotated[str, Path(max_length=64)]) -> Notification:
    return logic.mark_read(principal(app), notification_id)


@app.get(
    "/api/notifications/preferences",
    responses=documented(200, None, 403),
    operation_id="notification_get_preferences",
    summary="The caller's notification preferences",
)
def get_preferences() -> PreferencesOut:
    return logic.get_preferences(principal(app))


@app.put(
    "/api/notifications/preferences",
    responses=documented(200, None, 403),
    operation_id="notification_put_preferences",
    summary="Set the caller's notification preferences",
)
def put_preferences(body: Preferences) -> PreferencesOut:
    return logic.put_preferences(principal(app), body)


handler = lambda_handler(app, logic.obs)
