"""cdk-nag (AwsSolutions) on every synth, and the one way to acknowledge a finding: with a reason."""

from __future__ import annotations

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct


def enable(app: cdk.App) -> None:
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))


def acknowledge(scope: IConstruct, rule: str, reason: str) -> None:
    """`rule` is a cdk-nag id, with the finding for rules that have several (IAM5[Resource::*])."""
    if len(reason.split()) < 5:
        raise ValueError(f"{rule}: an acknowledgement needs a concrete reason, not {reason!r}")
    cdk.Validations.of(scope).acknowledge(cdk.Acknowledgment(id=rule, reason=reason))
