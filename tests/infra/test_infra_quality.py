"""Quality gates on the synthesized templates: cdk-nag (AwsSolutions) with nothing left
unacknowledged and a reason on every acknowledgement, and cfn-lint without errors."""

from __future__ import annotations

import pytest

from infra_cdk import nag

# CDK's own DependsOn on a function's role next to its GetAtt of it: harmless, cfn-lint's W3005.
CFN_LINT_IGNORED = ["W3005"]


def violations(assembly) -> list[str]:
    return [
        f"{v['ruleName']} ({report['pluginName']}): {[c['constructPath'] for c in v['violatingConstructs']]}"
        for report in assembly.report()["pluginReports"]
        for v in report["violations"]
    ]


@pytest.mark.parametrize("target", ["aws", "localstack"])
def test_cdk_nag_leaves_no_unacknowledged_finding(target, request):
    assembly = request.getfixturevalue(target)
    assert violations(assembly) == [] and assembly.error is None, assembly.error


def test_every_acknowledgement_carries_a_reason_and_they_stay_few(aws):
    # CDK acknowledges some of its own CloudFormation-Validate findings; ours are cdk-nag's
    acks = [a for a in aws.acknowledgements() if not a["rule"].startswith("CloudFormation-Validate::")]
    assert acks, "no acknowledgement was recorded: is cdk-nag wired in?"
    for ack in acks:
        assert ack["rule"].startswith("AwsSolutions-"), ack
        assert len(ack["reason"].split()) >= 5, ack
    # distinct (rule, reason) pairs: a loop over the catalog counts once
    assert len({(a["rule"], a["reason"]) for a in acks}) <= 25


def test_cdk_nag_fails_the_synth_on_an_unacknowledged_finding(tmp_path):
    import aws_cdk as cdk
    from aws_cdk import aws_sqs as sqs

    app = cdk.App(outdir=str(tmp_path))
    stack = cdk.Stack(app, "Probe")
    sqs.Queue(stack, "Plain")  # no DLQ, no SSL enforcement: AwsSolutions-SQS3/SQS4
    nag.enable(app)
    with pytest.raises(RuntimeError, match="AwsSolutions-SQS3"):
        app.synth()


def test_an_acknowledgement_needs_a_reason():
    import aws_cdk as cdk

    with pytest.raises(ValueError, match="concrete reason"):
        nag.acknowledge(cdk.App(), "AwsSolutions-S1", "fine")


@pytest.mark.parametrize("target", ["aws", "localstack"])
def test_cfn_lint_finds_no_error(target, request):
    from cfnlint.api import ManualArgs, lint_file

    assembly = request.getfixturevalue(target)
    templates = sorted(assembly.outdir.glob("*.template.json"))
    assert len(templates) == len(assembly.templates) > 0
    findings = [
        (t.name, m.rule.id, m.message)
        for t in templates
        for m in lint_file(t, ManualArgs(ignore_checks=CFN_LINT_IGNORED, regions=["us-east-1"]))
    ]
    errors = [f for f in findings if f[1].startswith("E")]
    assert errors == [], errors
