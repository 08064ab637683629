"""Every (producer, contract, reader): the producer's real output, mutated the ways a producer
change breaks a reader, fails with a message naming producer, contract, field and reader.

Real outputs come from conftest.real_payloads (every view and event, from the producers' real
routes and outboxes); the token from Auth's real token route, and its readers' declarations are
checked against the real verifying code (finflow.tokens.verify, finflow.token_check)."""

from __future__ import annotations

import copy
import json

import jwt
import pytest

from finflow import contracts
from finflow.contracts import calls
from finflow.contracts.token import AccessToken, token_readers
from tools import contracts as written

KEYS = sorted(contracts.CONSUMER_CONTRACTS)


def broken(producer: str, name: str, reader: str, payload: dict, model=None) -> list[str]:
    """The reader's violations, each prefixed with the producer: what a failing test prints."""
    return [f"{producer}'s {v}" for v in contracts.violations(reader, name, payload, model=model)]


def _required(model) -> list[str]:
    return [f for f, info in model.model_fields.items() if info.is_required()]


def _cases(kind: str):
    for consumer, producer, name in KEYS:
        model = contracts.CONSUMER_CONTRACTS[(consumer, producer, name)]
        for field in _required(model):
            yield pytest.param(consumer, producer, name, field, id=f"{consumer}-reads-{producer}.{name}.{field}-{kind}")


@pytest.mark.parametrize("reader,producer,name,field", list(_cases("removed")))
def test_a_removed_field_names_producer_contract_field_and_reader(real_payloads, reader, producer, name, field):
    payload = copy.deepcopy(real_payloads[name][0])
    del payload[field]
    assert broken(producer, name, reader, payload) == [f"{producer}'s {reader} reads {name}.{field}: missing"]


@pytest.mark.parametrize("reader,producer,name,field", list(_cases("renamed")))
def test_a_renamed_field_names_producer_contract_field_and_reader(real_payloads, reader, producer, name, field):
    payload = copy.deepcopy(real_payloads[name][0])
    payload[f"{field}_v2"] = payload.pop(field)
    assert f"{producer}'s {reader} reads {name}.{field}: missing" in broken(producer, name, reader, payload)


def _typed(kind: type):
    for reader, producer, name, field in (p.values for p in _cases("typed")):
        annotation = contracts.CONSUMER_CONTRACTS[(reader, producer, name)].model_fields[field].annotation
        if annotation is kind:
            yield pytest.param(reader, producer, name, field, id=f"{reader}-reads-{producer}.{name}.{field}")


@pytest.mark.parametrize("reader,producer,name,field", list(_typed(int)))
def test_a_number_turned_string_names_the_reader(real_payloads, reader, producer, name, field):
    payload = copy.deepcopy(real_payloads[name][0])
    payload[field] = str(payload[field])  # "6000000": pydantic's lax parsing would take it
    [problem] = broken(producer, name, reader, payload)
    assert problem.startswith(f"{producer}'s {reader} reads {name}.{field}: Input should be a valid integer")


@pytest.mark.parametrize(
    "reader,producer,name",
    [k for k in KEYS if "amount" in contracts.CONSUMER_CONTRACTS[k].model_fields],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_a_decimal_turned_minor_units_names_the_reader(real_payloads, reader, producer, name):
    payload = copy.deepcopy(real_payloads[name][0])
    payload["amount"] = payload["amount_minor"]  # "60000.00" -> 6000000
    [problem] = broken(producer, name, reader, payload)
    assert problem.startswith(f"{producer}'s {reader} reads {name}.amount: Input should be a valid string")


def _enums():
    for reader, producer, name, field in (p.values for p in _cases("enum")):
        schema = contracts.CONSUMER_CONTRACTS[(reader, producer, name)].model_json_schema()["properties"][field]
        if "enum" in schema:
            yield pytest.param(reader, producer, name, field, id=f"{reader}-reads-{producer}.{name}.{field}")


@pytest.mark.parametrize("reader,producer,name,field", list(_enums()))
def test_a_value_outside_the_readers_enum_names_the_reader(real_payloads, reader, producer, name, field):
    payload = copy.deepcopy(real_payloads[name][0])
    payload[field] = "suspended"  # the producer's set grew, or the reader's narrowed
    [problem] = broken(producer, name, reader, payload)
    assert problem.startswith(f"{producer}'s {reader} reads {name}.{field}: Input should be ")


# --- refusal codes and statuses: what each caller acts on ------------------------------------


def refusal_violations(caller: str, callee: str, problem: dict) -> list[str]:
    """Why `caller` would not act on `problem` as it does today: its code is not one the caller
    acts on, or its status is not the one the code is answered with (contracts/refusals)."""
    code = problem["type"].rstrip("/").rsplit("/", 1)[-1]
    acted = written.acted_on(caller, callee)
    statuses = written.statuses_of(code, written.refusal_codes(callee))
    if code not in acted:
        return [f"{callee}'s refusal {code!r}: {caller} acts on {acted}, not on it"]
    if problem["status"] not in statuses:
        return [f"{callee}'s refusal {code!r}: status {problem['status']}, {caller} acts on it as {statuses}"]
    return []


def test_every_real_refusal_is_one_its_caller_acts_on(real_payloads):
    for refusal in real_payloads["PostingRefusal"]:
        assert refusal_violations("payment", "wallet", refusal) == []


def test_a_changed_refusal_code_or_status_names_the_callee_code_and_caller(real_payloads):
    real = next(r for r in real_payloads["PostingRefusal"] if r["type"].endswith("/insufficient-funds"))
    renamed = {**real, "type": real["type"].replace("insufficient-funds", "funds-insufficient")}
    [problem] = refusal_violations("payment", "wallet", renamed)
    assert problem.startswith("wallet's refusal 'funds-insufficient': payment acts on [")
    assert refusal_violations("payment", "wallet", {**real, "status": 402}) == [
        "wallet's refusal 'insufficient-funds': status 402, payment acts on it as [422]"
    ]


def test_the_refusals_snapshot_lists_every_code_a_caller_acts_on():
    for call in calls.CALLS:
        for code in call.refusals:
            assert written.statuses_of(code, written.refusal_codes(call.callee)), (
                f"{call.caller} acts on {call.callee}'s refusal {code!r}, which {call.callee} never answers"
            )


# --- the access token: Auth signs it, the authorizer and every module read it -----------------


@pytest.fixture(scope="module")
def real_claims(real_payloads) -> dict:
    """The claims of a real token Auth answered (its client-credentials route)."""
    token = real_payloads["ServiceToken"][0]["access_token"]
    return jwt.decode(token, options={"verify_signature": False})


def test_a_real_token_is_exactly_the_access_token_contract(real_claims):
    AccessToken.model_validate_json(json.dumps(real_claims), strict=True)
    assert set(real_claims) == set(AccessToken.model_fields), "a claim was added or dropped: update AccessToken"


READERS = sorted(token_readers().items())


@pytest.mark.parametrize(
    "reader,field",
    [(r, f) for r, m in READERS for f in m.model_fields],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_a_removed_or_reshaped_claim_names_the_reader(real_claims, reader, field):
    model = token_readers()[reader]
    assert broken("auth", "AccessToken", reader, real_claims, model) == []
    removed = {k: v for k, v in real_claims.items() if k != field}
    assert broken("auth", "AccessToken", reader, removed, model) == [
        f"auth's {reader} reads AccessToken.{field}: missing"
    ]
    reshaped = {**real_claims, field: {"value": real_claims[field]}}  # a claim turned object
    [problem] = broken("auth", "AccessToken", reader, reshaped, model)
    assert problem.startswith(f"auth's {reader} reads AccessToken.{field}: ")


def _signed(claims: dict) -> tuple[str, dict]:
    from finflow.tokens import KeyRing, generate_key

    ring = KeyRing(active_kid=(key := generate_key()).kid, keys=(key,))
    token = jwt.encode(claims, ring.active.private_key(), algorithm="RS256", headers={"kid": key.kid})
    return token, ring.jwks()


def _read_by_the_real_code(claims: dict) -> dict:
    """What the authorizer does with a token (verify) and what it passes on to a module."""
    from finflow.token_check import principal_context
    from finflow.tokens import verify

    token, jwks = _signed(claims)
    verified = verify(token, jwks, issuer=claims.get("iss", "-"), audience=claims.get("aud", "-"))
    return principal_context(verified)


@pytest.mark.parametrize("field", sorted(token_readers()["authorizer"].model_fields))
def test_the_authorizers_declared_claims_are_the_ones_its_code_needs(real_claims, field):
    """Each claim the authorizer declares is one the real verification refuses a token without,
    so the declaration cannot drift from the code."""
    from finflow.tokens import TokenError

    fresh = {**real_claims, "exp": real_claims["iat"] + 10**9}
    assert _read_by_the_real_code(fresh)["sub"] == fresh["sub"]
    with pytest.raises((TokenError, KeyError)):
        _read_by_the_real_code({k: v for k, v in fresh.items() if k != field})
    assert _read_by_the_real_code({**fresh, "scope": "extra"})["sub"] == fresh["sub"]  # an added claim passes
