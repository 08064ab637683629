"""Deploy order: the synthesized manifest orders the stacks as the catalog's waves do."""

from __future__ import annotations

from functions import catalog
from infra_cdk.app import deploy_order, stack_id


def stack_dependencies(assembly) -> dict[str, set[str]]:
    artifacts = assembly.manifest["artifacts"]
    return {
        name: {d for d in a.get("dependencies", []) if artifacts.get(d, {}).get("type") == a["type"]}
        for name, a in artifacts.items()
        if a["type"] == "aws:cloudformation:stack"
    }


def test_one_stack_per_module_plus_foundation_and_observability(aws):
    expected = {stack_id("foundation"), stack_id("observability")} | {stack_id(m.key) for m in catalog.MODULES}
    assert set(stack_dependencies(aws)) == expected
    assert set(aws.templates) == expected


def test_the_manifest_gives_the_seed_deploy_order(aws):
    # Foundation -> Auth -> Wallet -> Payment -> {Notification, KYC} -> Reporting -> Observability
    assert deploy_order(aws.outdir) == [
        ["FinFlow-Foundation"],
        ["FinFlow-Auth"],
        ["FinFlow-Wallet"],
        ["FinFlow-Payment"],
        ["FinFlow-Kyc", "FinFlow-Notification"],
        ["FinFlow-Reporting"],
        ["FinFlow-Observability"],
    ]


def test_each_module_waits_for_what_it_calls_and_the_producers_it_consumes(aws):
    deps = stack_dependencies(aws)
    for m in catalog.MODULES:
        needed = {stack_id("foundation")} | {stack_id(d) for d in catalog.deploy_dependencies(m.key)}
        assert needed <= deps[stack_id(m.key)], m.key
        # a feedback subscription (KYC's decisions reaching Auth) never orders deployment
        for sub in m.subscriptions:
            if sub.feedback:
                assert stack_id(sub.producer) not in deps[stack_id(m.key)], (m.key, sub.producer)
    assert deps[stack_id("observability")] >= {stack_id(m.key) for m in catalog.MODULES}
    assert deps[stack_id("foundation")] == set()


def test_the_localstack_target_keeps_the_same_order(aws, localstack):
    assert deploy_order(localstack.outdir) == deploy_order(aws.outdir)
