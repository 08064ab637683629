"""Consumer-driven contract tests: every producer's real answers and real events (see
conftest.real_payloads) satisfy every consumer's own contract, and the checker names the
consumer, the contract and the field when a producer change would break one."""

from __future__ import annotations

import copy

import pytest

from finflow import contracts
from functions import catalog
from tools import cascade, schemas

KEYS = sorted(contracts.CONSUMER_CONTRACTS)


def _id(key: tuple[str, str, str]) -> str:
    return cascade.test_id(*key)


@pytest.mark.parametrize("key", KEYS, ids=[_id(k) for k in KEYS])
def test_real_payload_satisfies_consumer(key, real_payloads):
    consumer, producer, name = key
    assert real_payloads.get(name), f"the session produced no real {name} from {producer}"
    for payload in real_payloads[name]:
        assert contracts.violations(consumer, name, payload) == []


@pytest.mark.parametrize("name", sorted(contracts.PRODUCER_CONTRACTS))
def test_real_payload_matches_its_producer_contract(name, real_payloads):
    for payload in real_payloads[name]:
        contracts.PRODUCER_CONTRACTS[name].model_validate_json(__import__("json").dumps(payload), strict=True)


def test_registry_keys_are_the_catalogs_subscriptions_and_calls():
    events = {(m.key, s.producer, t) for m in catalog.MODULES for s in m.subscriptions for t in s.detail_types}
    registered_events = {k for k in contracts.CONSUMER_CONTRACTS if k[2] in contracts.EVENTS}
    assert registered_events == events
    sync = {k for k in contracts.CONSUMER_CONTRACTS if k[2] in contracts.VIEWS}
    # every view is read from the module that serves it, by a module that calls it
    for consumer, producer, name in sync:
        assert contracts.SYNC_READS[name][0] == producer
        assert producer in catalog.module(consumer).calls, (consumer, producer, name)
    # and every sync call reads at least one contract
    assert {(c, p) for c, p, _ in sync} == {(m.key, d) for m in catalog.MODULES for d in m.calls}
    for name in contracts.EVENTS:
        assert any(name in m.emits for m in catalog.MODULES), name


def test_consumer_contracts_only_list_fields_the_producer_has():
    for (consumer, _producer, name), model in contracts.CONSUMER_CONTRACTS.items():
        missing = set(model.model_fields) - set(contracts.PRODUCER_CONTRACTS[name].model_fields)
        assert not missing, f"{consumer} reads {name}.{sorted(missing)}, which {name} does not have"


def test_consumers_never_read_an_amount_without_its_currency():
    for (consumer, _producer, name), model in contracts.CONSUMER_CONTRACTS.items():
        assert money_without_currency(model) == [], f"{consumer} reads {name}"


def money_without_currency(model) -> list[str]:
    """Amount fields read without the currency they are in (summing them would mix currencies)."""
    fields = set(model.model_fields)
    amounts = sorted(f for f in fields if f.startswith("amount") or f.startswith("balance"))
    return [] if "currency" in fields or not amounts else amounts


# --- the checker on mutated copies of real payloads -----------------------------------------


def _real(real_payloads, name):
    return copy.deepcopy(real_payloads[name][0])


@pytest.mark.parametrize(
    "consumer,name,field",
    [
        ("notification", "PaymentCompleted", "currency"),
        ("reporting", "PaymentCompleted", "amount_minor"),
        ("kyc", "PaymentCompleted", "completed_at"),
        ("wallet", "UserView", "kyc_status"),
        ("payment", "WalletStatusChanged", "status"),
        ("payment", "UserKycStatusChanged", "changed_at"),
        ("payment", "PostingRefusal", "rule"),
        ("reporting", "AmlAlertRaised", "severity"),
    ],
)
def test_dropping_a_read_field_names_the_consumer_contract_and_field(real_payloads, consumer, name, field):
    payload = _real(real_payloads, name)
    del payload[field]
    assert contracts.violations(consumer, name, payload) == [f"{consumer} reads {name}.{field}: missing"]


def test_renaming_a_read_field_is_reported(real_payloads):
    payload = _real(real_payloads, "PaymentCompleted")
    payload["amount_cents"] = payload.pop("amount_minor")
    for consumer in ("notification", "kyc", "reporting"):
        assert f"{consumer} reads PaymentCompleted.amount_minor: missing" in contracts.violations(
            consumer, "PaymentCompleted", payload
        )


def test_retyping_a_read_field_is_reported_even_where_lax_parsing_would_coerce(real_payloads):
    payload = _real(real_payloads, "PaymentCompleted")
    payload["amount_minor"] = str(payload["amount_minor"])  # "6000000": pydantic's lax mode would accept it
    [problem] = contracts.violations("reporting", "PaymentCompleted", payload)
    assert problem.startswith("reporting reads PaymentCompleted.amount_minor: ")
    change = _real(real_payloads, "WalletStatusChanged")
    change["status"] = "suspended"  # a status Payment's replica does not know
    assert contracts.violations("payment", "WalletStatusChanged", change)[0].startswith(
        "payment reads WalletStatusChanged.status: "
    )


def test_a_field_nobody_reads_may_go_and_an_added_optional_field_passes(real_payloads):
    payload = _real(real_payloads, "PaymentCompleted")
    del payload["amount"]  # read by notification only
    assert contracts.violations("kyc", "PaymentCompleted", payload) == []
    assert contracts.violations("reporting", "PaymentCompleted", payload) == []
    assert contracts.violations("notification", "PaymentCompleted", payload) == [
        "notification reads PaymentCompleted.amount: missing"
    ]
    for consumer, _p, name in KEYS:
        extra = {**_real(real_payloads, name), "fx_rate": "1.0842", "channel": None}
        assert contracts.violations(consumer, name, extra) == []


# --- event JSON Schemas ---------------------------------------------------------------


def test_event_schemas_are_in_sync_with_the_producer_contracts():
    stale = schemas.stale()
    assert not stale, (
        f"event schemas are stale ({', '.join(p.name for p in stale)}): run `make schemas` and commit events/schemas/"
    )


def test_real_events_validate_against_the_exported_schemas(real_payloads):
    import json

    import jsonschema

    for name in contracts.EVENTS:
        schema = json.loads((schemas.SCHEMAS / f"{name}.json").read_text())
        for payload in real_payloads[name]:
            jsonschema.validate(payload, schema)
