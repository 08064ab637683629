"""`make cascade` reads the table of calls: a change lists the calls reading it, and the graph's
page lists every call."""

from __future__ import annotations

from finflow.contracts import calls
from tools import cascade


def test_a_contract_change_lists_only_the_calls_reading_it():
    out = cascade.report("auth.UserView").split("Synchronous calls into auth reading UserView")[1]
    section = out.split("Direct dependents:")[0]
    assert "wallet -> GET /api/auth/users/{user_id}  reads WalletReadsUserView; acts on not-found" in section
    assert "notification -> GET /api/auth/users/{user_id}  reads NotificationReadsUserView" in section
    assert "/api/auth/token" not in section  # ServiceToken's readers, not UserView's


def test_a_module_change_lists_every_call_into_it():
    out = cascade.report("wallet")
    section = out.split("Synchronous calls into wallet")[1].split("Direct dependents:")[0]
    assert [line.split(" -> ")[0].strip() for line in section.strip().splitlines()[1:]] == [
        c.caller for c in calls.into("wallet")
    ]
    assert "kyc -> PUT /api/wallet/{wallet_id}/status  reads (the status only); acts on not-found" in section


def test_the_graph_page_has_a_row_per_call():
    md = cascade.markdown()
    rows = [line for line in md.split("## Synchronous calls")[1].splitlines() if line.startswith("| ") and "`" in line]
    assert len(rows) == len(calls.CALLS)
    assert "| payment | auth | `POST /api/auth/token` | ReadsServiceToken | - |" in rows
