"""Deploy settings, read once from CDK context (`cdk.json`, or `-c key=value`)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import aws_cdk as cdk

from functions.catalog import API_THROTTLE

TARGETS = ("aws", "localstack")
# ADOT's managed Python layer (AWSOpenTelemetryDistroPython), by region then architecture: one
# published ARN serves arm64 and x86_64. The current versions are listed in the ADOT documentation
# (Lambda, Python); another region is added with -c adot_python_layers='{"<region>": {"arm64": "<arn>"}}'
# (architectures as ADOT names them: arm64, amd64).
ADOT_PYTHON_LAYERS: dict[str, dict[str, str]] = {
    region: {
        arch: f"arn:aws:lambda:{region}:615299751070:layer:AWSOpenTelemetryDistroPython:25"
        for arch in ("arm64", "amd64")
    }
    for region in ("us-east-1", "ap-northeast-1")
}


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
    adot_python_layers: dict[str, dict[str, str]] = field(default_factory=lambda: dict(ADOT_PYTHON_LAYERS))

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
            adot_python_layers=_layers(ctx("adot_python_layers", {})),
        )


def _layers(given: dict | str) -> dict[str, dict[str, str]]:
    """The context's ADOT layers (a JSON object on the command line) over the known ones."""
    extra = json.loads(given) if isinstance(given, str) else dict(given)
    for region, arns in extra.items():
        if not isinstance(arns, dict) or not all(str(a).startswith("arn:aws") for a in arns.values()):
            raise ValueError(f"context adot_python_layers[{region!r}]: expected {{architecture: layer ARN}}")
    return {**ADOT_PYTHON_LAYERS, **extra}
