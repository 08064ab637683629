"""README's deploy sections name the commands, versions and pins the Makefile and tests use."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def section(title: str) -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index(f"## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start:end]


def make_variable(name: str) -> str:
    return re.search(rf"^{name} := (\S+)$", (ROOT / "Makefile").read_text(), re.M).group(1)


def test_deploy_to_aws_names_the_make_targets_and_the_pinned_cli():
    text = section("Deploy to AWS")
    for command in ("make synth", "make synth TARGET=localstack", "make deploy STAGE=dev"):
        assert command in text, command
    assert f"aws-cdk@{make_variable('CDK_CLI_VERSION')}" in text
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^synth: ", makefile, re.M) and re.search(r"^deploy: ", makefile, re.M)


def test_deploy_to_localstack_names_the_targets_and_pins_what_the_tier_runs():
    text = section("Deploy to LocalStack")
    pinned = re.search(
        r"localstack/localstack:(\S+)", (ROOT / "tools/localstack/docker-compose.yml").read_text()
    ).group(1)
    assert f"localstack/localstack:{pinned}" in text and f"**{pinned}**" in text
    for command in ("make localstack-up", "make deploy-localstack", "make test-localstack", "make localstack-down"):
        assert command in text, command
    assert f"aws-cdk-local@{make_variable('CDKLOCAL_VERSION')}" in text
    # the tier runs exactly the README's target, and that target deploys with the LocalStack context
    assert '"make", "--no-print-directory", "deploy-localstack"' in (ROOT / "tests/localstack/conftest.py").read_text()
    makefile = (ROOT / "Makefile").read_text()
    assert "tools/localstack/deploy" in makefile.split("deploy-localstack:")[1].split("\n\n")[0]
    assert "-c target=localstack" in (ROOT / "tools/localstack/deploy").read_text()
