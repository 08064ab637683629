"""Schemathesis against every module's OpenAPI document, through the devserver over HTTP.

Each module's document (`/api/<module>/docs?format=json`) drives generated requests, sent
once as a KYC-verified customer with funded wallets and once as the admin (internal routes
with the service token they are meant for). Every answer must be no 5xx, carry a
documented status code and content type, and match the documented body schema.

The budget is FUZZ_EXAMPLES per operation and generation mode (valid and invalid data):
small and derandomized in `make test`, larger in `make fuzz`; FUZZ_SEED gives a deeper
run other examples. Hypothesis drives schemathesis' strategies directly: schemathesis'
lazy pytest loader does not run under this pytest.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from functions import catalog
from tests.e2e import principals as callers

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "4"))
SEED = os.environ.get("FUZZ_SEED")
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
ROLES = ("customer", "admin")
# internal route prefix -> the service whose token it takes
SERVICE_ROUTES = {"/api/wallet/internal/": "payment"}
FIGURES = Path(__file__).resolve().parents[2] / ".local" / "fuzz.json"


@pytest.fixture(scope="module")
def principals(devserver) -> callers.Principals:
    with httpx.Client(base_url=devserver.url, timeout=15.0) as http:
        return callers.build(http, devserver)


@pytest.fixture(scope="module")
def fuzz_http():
    with callers.fuzz_session() as session:
        yield session


@pytest.fixture(scope="module")
def figures():
    counts: dict[str, int] = {}
    yield counts
    FIGURES.parent.mkdir(exist_ok=True)
    FIGURES.write_text(
        json.dumps(
            {
                "examples_per_operation_and_mode": EXAMPLES,
                "seed": SEED,
                "requests": counts,
                "total": sum(counts.values()),
            },
            indent=2,
        )
    )
    print(f"\nfuzz: {sum(counts.values())} requests {counts}")


def _headers(path: str, role: str, principals: callers.Principals) -> dict[str, str]:
    for prefix, service in SERVICE_ROUTES.items():
        if path.startswith(prefix):
            return principals.bearer(principals.service_tokens[service])
    return principals.bearer(principals.admin_token if role == "admin" else principals.customer.access_token)


# body fields naming a resource, and the kind of known id that fills them
BODY_IDS = {
    "wallet_id": "wallet_id",
    "from_wallet_id": "wallet_id",
    "to_wallet_id": "wallet_id",
    "debit_wallet_id": "wallet_id",
    "credit_wallet_id": "wallet_id",
    "posting_id": "posting_id",
}


def _cases(operation, principals: callers.Principals):
    """Generated cases, valid and not; with ids in the path or the body, also ones naming
    real resources (random ids alone would only ever meet 404)."""
    strategies = []
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        strategies.append(operation.as_strategy(generation_mode=mode))
        names = [p.name for p in operation.path_parameters]
        if names and all(principals.known.get(n) for n in names):
            strategies.append(
                st.fixed_dictionaries({n: st.sampled_from(principals.known[n]) for n in names}).flatmap(
                    lambda ids, m=mode: operation.as_strategy(generation_mode=m, path_parameters=ids)
                )
            )
    if operation.body:
        strategies.append(operation.as_strategy().flatmap(lambda case: _known_body_ids(case, principals)))
    return st.one_of(strategies)


def _known_body_ids(case, principals: callers.Principals):
    fields = [
        k for k in (case.body if isinstance(case.body, dict) else {}) if principals.known.get(BODY_IDS.get(k, ""))
    ]
    if not fields:
        return st.just(case)

    def fill(ids: dict):
        case.body = {**case.body, **ids}
        return case

    return st.fixed_dictionaries({k: st.sampled_from(principals.known[BODY_IDS[k]]) for k in fields}).map(fill)


def _fuzz(operation, role: str, principals, session, base_url: str) -> int:
    sent = 0
    budget = EXAMPLES * 2

    @settings(
        max_examples=budget,
        derandomize=SEED is None,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
    )
    @given(case=_cases(operation, principals))
    def run(case):
        nonlocal sent
        sent += 1
        case.call_and_validate(
            base_url=base_url, session=session, checks=CHECKS, timeout=30, headers=_headers(case.path, role, principals)
        )

    if SEED is not None:
        run = seed(int(SEED))(run)
    run()
    return sent


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("module", [m.key for m in catalog.MODULES])
def test_no_5xx_and_answers_match_the_document(module, role, devserver, principals, fuzz_http, figures):
    schema = schemathesis.openapi.from_url(f"{devserver.url}/api/{module}/docs?format=json")
    failures, sent = [], 0
    for result in schema.get_all_operations():
        operation = result.ok()
        try:
            sent += _fuzz(operation, role, principals, fuzz_http, devserver.url)
        except Exception as exc:
            failures.append(f"--- {operation.label} as {role}:\n{exc}")
    figures[f"{module}-as-{role}"] = sent
    assert not failures, "\n".join(failures)
