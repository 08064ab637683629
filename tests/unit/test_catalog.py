"""functions.catalog: the module graph that CDK, the devserver and /health all read."""

from __future__ import annotations

import dataclasses
import importlib
from pathlib import Path

import pytest

from functions import catalog
from functions.catalog import (
    BY_KEY,
    MODULES,
    Subscription,
    cascade_info,
    deploy_waves,
    module,
    module_for_path,
    public_routes,
    transitive_calls,
)

ROOT = Path(__file__).resolve().parents[2]


def wave_of(key: str) -> int:
    return next(i for i, wave in enumerate(deploy_waves()) if key in wave)


# --- the graph -------------------------------------------------------------------------


def test_six_modules_lettered_a_to_f():
    assert [(m.key, m.letter) for m in MODULES] == [
        ("auth", "A"),
        ("wallet", "B"),
        ("payment", "C"),
        ("notification", "D"),
        ("kyc", "E"),
        ("reporting", "F"),
    ]
    assert set(BY_KEY) == {m.key for m in MODULES}


def test_ports_are_the_seed_ports_and_unique():
    ports = {m.key: m.port for m in MODULES}
    assert ports == {
        "auth": 8001,
        "wallet": 8002,
        "payment": 8003,
        "notification": 8004,
        "kyc": 8005,
        "reporting": 8006,
    }
    assert catalog.GATEWAY_PORT not in ports.values()


def test_dependencies_name_known_modules_only():
    for m in MODULES:
        assert set(m.calls) <= set(BY_KEY), m.key
        assert {s.producer for s in m.subscriptions} <= set(BY_KEY), m.key
        assert m.key not in m.calls


def test_no_cycles_in_synchronous_calls():
    for m in MODULES:
        assert m.key not in transitive_calls(m.key), f"{m.key} reaches itself synchronously"


def test_transitive_calls_follow_the_chain_nearest_first():
    assert transitive_calls("payment") == ("wallet", "auth")
    assert transitive_calls("auth") == ()
    assert transitive_calls("reporting") == ()


def test_deploy_waves_are_a_b_c_de_f():
    waves = deploy_waves()
    assert [set(w) for w in waves] == [{"auth"}, {"wallet"}, {"payment"}, {"notification", "kyc"}, {"reporting"}]
    letters = [{module(k).letter for k in w} for w in waves]
    assert letters == [{"A"}, {"B"}, {"C"}, {"D", "E"}, {"F"}]


def test_every_module_deploys_after_what_it_calls():
    for m in MODULES:
        for dep in m.calls:
            assert wave_of(dep) < wave_of(m.key), f"{m.key} calls {dep}"


def test_deploy_waves_refuse_a_cycle(monkeypatch):
    a = dataclasses.replace(BY_KEY["auth"], calls=("wallet",))
    b = dataclasses.replace(BY_KEY["wallet"], calls=("auth",))
    cyclic = {"auth": a, "wallet": b}
    monkeypatch.setattr(catalog, "MODULES", (a, b))
    monkeypatch.setattr(catalog, "BY_KEY", cyclic)
    with pytest.raises(ValueError, match="cycle"):
        deploy_waves.__wrapped__()


# --- events ----------------------------------------------------------------------------


def test_every_subscription_names_events_its_producer_emits():
    for m in MODULES:
        for sub in m.subscriptions:
            missing = set(sub.detail_types) - set(module(sub.producer).emits)
            assert not missing, f"{m.key} subscribes to {sub.producer} {sorted(missing)}, which it never emits"


def test_no_module_subscribes_to_itself_or_twice_to_a_producer():
    for m in MODULES:
        producers = [s.producer for s in m.subscriptions]
        assert m.key not in producers
        assert len(producers) == len(set(producers)), m.key


def test_event_names_are_pascal_case_past_tense_and_unique_per_producer():
    for m in MODULES:
        assert len(m.emits) == len(set(m.emits))
        for name in m.emits:
            assert name[0].isupper() and name.isalnum(), name
            assert name.endswith(("ed", "Made")), name


def test_feedback_subscriptions_flow_back_to_the_same_or_an_earlier_wave():
    # The Subscription docstring: feedback events reach a module deployed in the same or
    # an earlier wave than their producer, and do not order deployment.
    feedback = [(m.key, s) for m in MODULES for s in m.subscriptions if s.feedback]
    assert feedback, "the catalog has feedback subscriptions (KYC -> Auth)"
    for consumer, sub in feedback:
        assert wave_of(consumer) <= wave_of(sub.producer), f"{consumer} <- {sub.producer} is not feedback"


def test_ordinary_subscriptions_deploy_after_their_producer():
    for m in MODULES:
        for sub in m.subscriptions:
            if not sub.feedback:
                assert wave_of(sub.producer) < wave_of(m.key), f"{m.key} <- {sub.producer}"


def test_kyc_decision_reaches_auth_as_feedback():
    (sub,) = [s for s in module("auth").subscriptions if s.producer == "kyc"]
    assert sub == Subscription("kyc", ("KycDecisionMade",), feedback=True)
    assert "auth" in catalog.subscribers("kyc", "KycDecisionMade")
    assert set(catalog.subscribers("auth", "UserKycStatusChanged")) == {
        "wallet",
        "payment",
        "notification",
        "reporting",
    }


def test_feedback_does_not_hold_back_the_consumer(monkeypatch):
    # Were KYC -> Auth an ordinary subscription, Auth would wait for KYC, which waits for Auth.
    auth = module("auth")
    blocking = dataclasses.replace(auth, subscriptions=(Subscription("kyc", ("KycDecisionMade",)),))
    monkeypatch.setattr(catalog, "BY_KEY", {**BY_KEY, "auth": blocking})
    monkeypatch.setattr(catalog, "MODULES", tuple(blocking if m.key == "auth" else m for m in MODULES))
    with pytest.raises(ValueError, match="cycle"):
        deploy_waves.__wrapped__()


# --- routing ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path, key",
    [
        ("/api/auth/login", "auth"),
        ("/api/auth", "auth"),
        ("/api/wallet/create", "wallet"),
        ("/api/v1/wallet/abc", "wallet"),
        ("/api/v2/wallet", "wallet"),
        ("/api/v2/wallet/create", "wallet"),
        ("/api/payment/transfer", "payment"),
        ("/api/notifications/preferences", "notification"),
        ("/api/notification/health", "notification"),
        ("/api/kyc/submit", "kyc"),
        ("/api/aml/alerts", "kyc"),
        ("/api/reports/summary", "reporting"),
        ("/api/reporting/health", "reporting"),
    ],
)
def test_module_for_path(path, key):
    found = module_for_path(path)
    assert found is not None and found.key == key


@pytest.mark.parametrize(
    "path", ["/api/authentication", "/api/walletx/1", "/api/v3/wallet", "/api", "/health", "/api/unknown/thing"]
)
def test_paths_no_module_owns(path):
    assert module_for_path(path) is None


def test_longest_prefix_wins(monkeypatch):
    # A broader prefix owned by another module must not capture the more specific one.
    greedy = dataclasses.replace(module("reporting"), route_prefixes=("/api/reports", "/api/v2"))
    monkeypatch.setattr(catalog, "MODULES", tuple(greedy if m.key == "reporting" else m for m in MODULES))
    assert module_for_path("/api/v2/wallet/create").key == "wallet"
    assert module_for_path("/api/v2/other").key == "reporting"


def test_public_routes_of_auth():
    routes = set(public_routes(module("auth")))
    assert {
        ("POST", "/api/auth/register"),
        ("POST", "/api/auth/login"),
        ("POST", "/api/auth/refresh"),
        ("POST", "/api/auth/token"),
        ("GET", "/api/auth/.well-known/jwks.json"),
        ("GET", "/api/auth/health"),
        ("GET", "/health"),
    } <= routes
    # what needs a caller stays behind the authorizer
    for route in [
        ("GET", "/api/auth/me"),
        ("POST", "/api/auth/logout"),
        ("GET", "/api/auth/users/{id}"),
        ("PUT", "/api/auth/users/{id}/roles"),
    ]:
        assert route not in routes


def test_every_module_has_a_public_health_route():
    for m in MODULES:
        routes = public_routes(m)
        assert ("GET", m.health_path) in routes and ("GET", "/health") in routes


# --- cascade info ----------------------------------------------------------------------


def test_cascade_info_for_payment():
    info = cascade_info("payment")
    assert info["direct_dependency"] == "wallet-service, auth-service"
    assert info["indirect_dependency"] == "auth-service (via wallet-service)"
    assert {"KYC check", "token validation", "wallet status"} <= set(info["cascaded_validations"])


def test_cascade_info_for_wallet_and_auth():
    wallet = cascade_info("wallet")
    assert wallet["direct_dependency"] == "auth-service"
    assert wallet["indirect_dependency"] == "none"
    assert "auth-service" in wallet["event_sources"]
    auth = cascade_info("auth")
    assert (auth["direct_dependency"], auth["indirect_dependency"]) == ("none", "none")
    assert auth["event_sources"] == ["kyc-service"]
    assert auth["cascaded_validations"] == ["token validation"]


# --- functions -------------------------------------------------------------------------


def test_functions_follow_what_a_module_does():
    auth = {f.name: f for f in module("auth").functions}
    assert set(auth) == {"api", "events", "outbox-sweeper", "authorizer"}
    assert auth["authorizer"].kind == "authorizer"
    for m in MODULES:
        names = [f.name for f in m.functions]
        assert len(names) == len(set(names)), m.key
        assert names[0] == "api"
        # a consumer exactly when something is subscribed to, a sweeper exactly when events are emitted
        assert ("events" in names) == bool(m.subscriptions), m.key
        assert ("outbox-sweeper" in names) == bool(m.emits), m.key


def test_handlers_of_built_modules_resolve():
    checked = []
    for m in MODULES:
        if not (ROOT / "functions" / m.key / "api.py").exists():
            continue  # module not built yet
        for fn in m.functions:
            dotted, _, attr = fn.handler.rpartition(".")
            assert callable(getattr(importlib.import_module(dotted), attr)), fn.handler
            checked.append(fn.handler)
    assert "functions.auth.authorizer.handler" in checked
