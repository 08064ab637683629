"""The CDK app synthesized once per session (AWS and LocalStack targets); every infra test
reads that output: templates, manifest, cdk-nag's report, acknowledgements."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("CDK_DISABLE_VERSION_CHECK", "true")


@dataclass
class Assembly:
    outdir: Path
    error: str | None  # synth's exception (cdk-nag or CloudFormation validation failed), if any
    templates: dict[str, dict] = field(default_factory=dict)  # stack id -> template

    @property
    def manifest(self) -> dict:
        return json.loads((self.outdir / "manifest.json").read_text())

    def report(self) -> dict:
        path = self.outdir / "validation-report.json"
        return json.loads(path.read_text()) if path.exists() else {"pluginReports": []}

    def resources(self, stack: str, type_: str) -> dict[str, dict]:
        return {k: v for k, v in self.templates[stack]["Resources"].items() if v["Type"] == type_}

    def all_resources(self, type_: str) -> list[tuple[str, str, dict]]:
        return [(stack, k, v) for stack in self.templates for k, v in self.resources(stack, type_).items()]

    def acknowledgements(self) -> list[dict]:
        """Every acknowledged rule: [{path, rule, reason}] from each stack's metadata."""
        acks = []
        for meta in self.outdir.glob("*.metadata.json"):
            for path, entries in json.loads(meta.read_text()).items():
                for entry in entries:
                    if entry["type"] == "aws:cdk:acknowledged-rules":
                        acks += [
                            {"path": path, "rule": rule.removeprefix("Annotation::"), "reason": reason}
                            for rule, reason in entry["data"].items()
                        ]
        return acks


def synthesize(target: str, outdir: Path) -> Assembly:
    import aws_cdk as cdk

    from infra_cdk.app import build

    app = cdk.App(outdir=str(outdir), context={"target": target, "stage": "dev"})
    build(app)
    error = None
    try:
        app.synth()
    except RuntimeError as exc:  # Validations failed: the templates are written all the same
        error = str(exc)
    assembly = Assembly(outdir=outdir, error=error)
    for template in outdir.glob("*.template.json"):
        assembly.templates[template.name.removesuffix(".template.json")] = json.loads(template.read_text())
    return assembly


@pytest.fixture(scope="session")
def aws(tmp_path_factory) -> Assembly:
    return synthesize("aws", tmp_path_factory.mktemp("cdk-aws"))


@pytest.fixture(scope="session")
def localstack(tmp_path_factory) -> Assembly:
    return synthesize("localstack", tmp_path_factory.mktemp("cdk-localstack"))
