"""tools.cascade: the blast radius printed by `make cascade CHANGE=...` and the graph files."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from finflow import contracts
from tools import cascade


def test_auth_reaches_everyone_payment_through_wallet():
    out = cascade.report("auth")
    direct = out.split("Direct dependents:")[1].split("Indirect")[0]
    for line in (
        "wallet (async + sync)",
        "payment (async + sync)",
        "notification (async + sync)",
        "kyc (async + sync)",
        "reporting (async)",
    ):
        assert line in direct
    assert "payment (also via wallet)" in out  # the seed's indirect dependency
    assert "1. Version the API: auth's routes under /api/v2/" in out
    assert (
        "3. Update consumers gradually, in deploy-wave order: wallet -> payment -> notification -> kyc -> reporting"
        in out
    )


def test_a_field_names_its_readers_and_spares_the_others():
    out = cascade.report("wallet.WalletCreated.status")
    assert "payment reads WalletCreated.status (required)  [PaymentReadsWalletCreated]" in out
    assert "notification does not read WalletCreated.status: unaffected" in out
    assert "test_real_payload_satisfies_consumer[payment-reads-wallet.WalletCreated]" in out
    assert "  payment: payment.events consumer (payment-service queue, DLQ on a parse failure)" in out
    assert "5. Deploy them one by one in dependency order: payment -> reporting (make test after each)" in out
    assert "  notification: " not in out.split("Routes and consumers affected:")[1]


def test_payments_one_call_names_its_only_reader():
    out = cascade.report("wallet.PostingResult.currency")
    assert "PostingResult (sync: POST /api/wallet/internal/postings)" in out
    assert "payment reads PostingResult.currency (required)  [PaymentReadsPostingResult]" in out
    assert "  payment: routes /api/payment (503 or a wrong answer while it cannot read)" in out


def test_an_event_lists_its_consumers_queues_in_deploy_order():
    out = cascade.report("payment.PaymentCompleted")
    readers = [line.split()[0] for line in out.split("Direct dependents:")[0].splitlines() if " reads " in line]
    assert readers == ["notification", "kyc", "reporting"]
    assert "kyc: kyc.events consumer" in out
    assert out.count("test_real_payload_satisfies_consumer[") == 3


def test_a_field_nobody_reads_is_safe_and_a_new_field_is_flagged():
    out = cascade.report("payment.PaymentFailed.amount")
    assert "reporting does not read PaymentFailed.amount: unaffected" in out
    assert "no consumer (the change is safe for every deployed reader)" in out
    assert "has no field 'fx_rate' yet" in cascade.report("payment.PaymentCompleted.fx_rate")


def test_feedback_events_do_not_make_payment_a_dependency_of_auth():
    reach = cascade.all_dependents("payment")
    assert "auth" not in reach and "wallet" not in reach
    assert cascade.direct_dependents("kyc")["auth"] == {"async"}  # KycDecisionMade, directly


@pytest.mark.parametrize("bad", ["ledger", "auth.WalletView", "auth.UserView.kyc_status.extra"])
def test_unknown_changes_are_refused_with_the_choices(bad):
    with pytest.raises(SystemExit) as exc:
        cascade.report(bad)
    assert "auth" in str(exc.value) or "CHANGE is" in str(exc.value)


def test_every_consumer_contract_has_a_guarding_test_id():
    ids = {cascade.test_id(*k) for k in contracts.CONSUMER_CONTRACTS}
    assert len(ids) == len(contracts.CONSUMER_CONTRACTS)


def test_graph_files_render_every_module_and_edge(tmp_path):
    svg_path, md_path = cascade.write_graph(tmp_path)
    root = ET.parse(svg_path).getroot()
    ns = "{http://www.w3.org/2000/svg}"
    texts = " ".join(t.text or "" for t in root.iter(f"{ns}text"))
    for key in ("auth", "wallet", "payment", "notification", "kyc", "reporting"):
        assert key in texts
    assert len(root.findall(f".//{ns}path")) == len(cascade.edges()) + 3  # edges + 3 arrowheads
    md = md_path.read_text()
    assert "```mermaid" in md and 'wallet -->|"calls: ServiceToken, UserView"| auth' in md
    assert 'payment -.->|"PaymentCompleted"| kyc' in md and 'kyc -..->|"KycDecisionMade"| auth' in md


def test_committed_graph_is_current():
    assert (cascade.ROOT / "docs" / "cascade.md").read_text() == cascade.markdown(), "run `make cascade`"
    assert (cascade.ROOT / "docs" / "cascade.svg").read_text() == cascade.svg(), "run `make cascade`"


def test_main_prints_the_report(capsys):
    assert cascade.main(["auth.UserView"]) == 0
    assert "Blast radius of a change to auth.UserView" in capsys.readouterr().out
