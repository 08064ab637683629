"""The written-down contracts (contracts/, events/schemas/): in step with the code, compared with
the previous commit (`make contracts-check` in `make test`), and each kind of break classified,
traced to the readers it reaches, and stopped at deploy until those readers accept it."""

from __future__ import annotations

import copy

import pytest

from tools import contracts, contracts_check, contracts_deploy


@pytest.fixture(scope="module")
def current() -> contracts.Contracts:
    return contracts.generate()


def test_the_committed_contracts_are_what_the_code_generates():
    stale = contracts.stale()
    assert not stale, f"contracts are stale ({', '.join(stale)}): run `make contracts` and commit contracts/"


def test_contracts_check_passes_against_the_previous_commit(capsys):
    base = "HEAD~1" if contracts_check.git("rev-parse", "--verify", "--quiet", "HEAD~1^{commit}") else "HEAD"
    code = contracts_check.main(["--base", base])
    assert code == 0, capsys.readouterr().out


def _check(old, new, changed=()) -> tuple[str, bool]:
    return contracts_check.report("BASE", contracts_check.compare(old, new, list(changed)))


def _edit(current, cid: str):
    new = copy.deepcopy(current)
    return new, new.docs[cid]


def _without_completed_at(current):
    """Payment no longer sends PaymentCompleted.completed_at, which KYC and Reporting read."""
    new, doc = _edit(current, "event/PaymentCompleted")
    del doc["properties"]["completed_at"]
    doc["required"].remove("completed_at")
    return new


def test_a_removed_field_reaches_exactly_its_readers(current):
    new = _without_completed_at(current)
    text, ok = _check(current, new)
    assert not ok
    assert "breaking  response-property-removed  completed_at: removed" in text
    assert "kyc reads PaymentCompleted.completed_at: missing" in text
    assert "reporting reads PaymentCompleted.completed_at: missing" in text
    assert "notification reads PaymentCompleted.completed_at" not in text  # it does not read it
    assert "FAIL event/PaymentCompleted: version 1 not raised" in text


def test_number_to_string_and_decimal_to_minor_units_are_breaking(current):
    new, doc = _edit(current, "event/PaymentCompleted")
    doc["properties"]["amount_minor"] = {"type": "string"}
    doc["properties"]["amount"] = {"type": "integer"}
    text, ok = _check(current, new)
    assert not ok
    assert "response-property-type-changed  amount_minor: integer -> string" in text
    assert "notification reads PaymentCompleted.amount: is integer, reads string" in text
    assert "reporting reads PaymentCompleted.amount_minor: is string, reads integer" in text


def test_a_reshaped_claim_reaches_the_authorizer_and_every_module(current):
    new, doc = _edit(current, "token/AccessToken")
    doc["properties"]["roles"] = {"type": "string"}  # "customer,admin"
    text, ok = _check(current, new)
    assert not ok
    for reader in ("authorizer", "auth", "wallet", "payment", "notification", "kyc", "reporting"):
        assert f"{reader} reads AccessToken.roles: is string, reads array" in text
    assert "token/AccessToken: version 1 not raised" in text


def test_enums_widened_in_an_answer_or_narrowed_in_a_request_are_breaking(current):
    new, doc = _edit(current, "event/WalletStatusChanged")
    status = doc["$defs"]["WalletStatus"] if "$defs" in doc and "WalletStatus" in doc["$defs"] else None
    target = status or doc["properties"]["status"]
    target["enum"] = [*target["enum"], "suspended"]
    text, _ = _check(current, new)
    assert "response-property-enum-value-added" in text
    assert "payment reads WalletStatusChanged.status: may be ['suspended']" in text
    new, doc = _edit(current, "http/wallet")
    kind = doc["components"]["schemas"]["PostingRequest"]["properties"]["kind"]
    kind["enum"] = ["transfer", "deposit"]  # Wallet no longer takes withdrawals Payment sends
    text, ok = _check(current, new)
    assert not ok
    assert "request-property-enum-value-removed" in text
    assert "payment calls POST /api/wallet/internal/postings: request-property-enum-value-removed" in text


def test_a_changed_refusal_code_or_status_reaches_the_caller(current):
    new, doc = _edit(current, "refusals/wallet")
    doc["insufficient-funds"] = [402]
    del doc["not-owner"]
    text, ok = _check(current, new)
    assert not ok
    assert "payment acts on wallet refusal 'insufficient-funds': answered [402], acts on [422]" in text
    assert "payment acts on wallet refusal 'not-owner': no longer answered" in text


def test_compatible_changes_pass(current):
    new, doc = _edit(current, "event/PaymentCompleted")
    doc["properties"]["fx_rate"] = {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None}
    del doc["properties"]["amount"]  # breaking by the rules, but no reader other than notification...
    text, ok = _check(current, new)
    assert "response-property-added  fx_rate" in text
    assert not ok and "notification reads PaymentCompleted.amount: missing" in text
    new, doc = _edit(current, "event/PaymentCompleted")
    doc["properties"]["fx_rate"] = {"type": "string"}
    text, ok = _check(current, new)
    assert ok, text
    assert "event/PaymentCompleted (producer payment): compatible" in text


def test_a_breaking_change_passes_once_its_readers_changed_and_its_version_rose(current):
    new = _without_completed_at(current)
    new.index["event/PaymentCompleted"]["version"] = 2
    text, ok = _check(current, new, ["functions/kyc/events.py"])
    assert not ok and "reader reporting did not change" in text and "reader kyc" not in text.split("FAIL")[-1]
    text, ok = _check(current, new, ["functions/kyc/events.py", "functions/reporting/events.py"])
    assert ok, text


# --- deploy: what runs must accept what deploys -------------------------------------------------


def _roles_as_text(current):
    """Auth signs `roles` as a comma-separated string (a reshaped claim); readers that accept
    both shapes read `roles` as either."""
    new, doc = _edit(current, "token/AccessToken")
    doc["properties"]["roles"] = {"type": "string"}
    both = {"anyOf": [{"type": "array", "items": {"type": "string"}}, {"type": "string"}]}
    return new, both


def test_the_gate_refuses_a_producer_its_deployed_readers_do_not_accept(current):
    new, _ = _roles_as_text(current)
    refused = contracts_deploy.gate(current, new, contracts_deploy.units_of(["FinFlow-Auth"]))
    assert "auth (token/AccessToken): deployed reader payment would break: payment reads AccessToken.roles: " in (
        "\n".join(refused)
    )


def test_readers_that_accept_both_shapes_deploy_first_then_the_producer(current):
    new, both = _roles_as_text(current)
    for reader in new.readers["token/AccessToken"]:
        new.readers["token/AccessToken"][reader]["properties"]["roles"] = both
    order = contracts_deploy.order(current, new)
    assert "token/AccessToken: payment accepts both shapes: deploy it before auth" in order
    sequence = order[-1].removeprefix("deploy order: ").split(" -> ")
    assert sequence.index("FinFlow-Payment") < sequence.index("FinFlow-Auth")
    readers = [s for s in sequence if s not in ("FinFlow-Auth", "FinFlow-Observability")]
    live = contracts_deploy.record(copy.deepcopy(current), new, contracts_deploy.units_of(readers))
    assert contracts_deploy.gate(live, new, contracts_deploy.units_of(["FinFlow-Auth"])) == []


def test_the_gate_refuses_a_reader_that_no_longer_accepts_the_deployed_producer(current):
    new = copy.deepcopy(current)
    reads = new.readers["event/PaymentCompleted"]["kyc"]
    reads["properties"]["settled_at"] = {"type": "string", "format": "date-time"}
    reads["required"].append("settled_at")
    refused = contracts_deploy.gate(current, new, contracts_deploy.units_of(["FinFlow-Kyc"]))
    assert refused == [
        "kyc (event/PaymentCompleted): does not accept the deployed payment: kyc reads PaymentCompleted.settled_at: missing"
    ]
