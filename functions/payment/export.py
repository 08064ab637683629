"""Payment's part of a user's data export: every payment they are a party to."""

from __future__ import annotations

from finflow.exports import every_page
from finflow.http import Principal
from functions.payment import logic


def part(owner: Principal) -> dict:
    return {"payments": every_page(lambda cursor: logic.list_mine(owner, 100, cursor))}
