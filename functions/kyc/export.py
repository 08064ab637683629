"""KYC's part of a user's data export: their submissions (document references and decisions).

AML alerts about the user are not exported: telling a customer about suspicious-activity
monitoring is prohibited (tipping-off, EU AMLD Art. 39), a restriction GDPR Art. 23 allows."""

from __future__ import annotations

from finflow.problems import Principal
from functions.kyc import logic


def part(owner: Principal) -> dict:
    return logic.status(owner).model_dump(mode="json")
