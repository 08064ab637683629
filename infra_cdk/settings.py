"""Deploy settings, read once from CDK context (`cdk.json`, or `-c key=value`)."""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk

from functions.catalog import API_THROTTLE

TARGETS = ("aws", "localstack")


@dataclass(frozen=True)
class DeploySettings:
    target: str = "aws"  # aws | localstack (paid-only services become parameters)
    stage: str = "dev"  # part of every name: two stages can share an account
    alarm_email: str | None = None
    secrets_generation: str = "1"  # change it to rotate signing keys and service credentials
    kyc_auto_verify: bool = False
    # the stage's throttling (requests per second, steady state, and burst), whole stage;
    # the devserver's gateway emulates the same catalog values
    api_rate_limit: float = API_THROTTLE.rate
    api_burst_limit: int = API_THROTTLE.burst

    @property
    def aws(self) -> bool:
        return self.target == "aws"

    @property
    def prefix(self) -> str:
        return f"finflow-{self.stage}"

    def secret_name(self, *parts: str) -> str:
        return "/".join(("finflow", self.stage, *parts))

    def function_name(self, module: str, function: str) -> str:
        return f"{self.prefix}-{module}-{function}"

    @classmethod
    def from_context(cls, app: cdk.App) -> DeploySettings:
        def ctx(key: str, default):
            value = app.node.try_get_context(key)
            return default if value is None else value

        target = str(ctx("target", "aws"))
        if target not in TARGETS:
            raise ValueError(f"context target={target!r}: expected one of {TARGETS}")
        return cls(
            target=target,
            stage=str(ctx("stage", "dev")),
            alarm_email=ctx("alarm_email", None),
            secrets_generation=str(ctx("secrets_generation", "1")),
            kyc_auto_verify=str(ctx("kyc_auto_verify", "false")).lower() == "true",
            api_rate_limit=float(ctx("api_rate_limit", API_THROTTLE.rate)),
            api_burst_limit=int(ctx("api_burst_limit", API_THROTTLE.burst)),
        )
