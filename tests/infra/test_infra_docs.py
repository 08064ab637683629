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


def test_deploy_to_localstack_pins_the_version_the_test_expects():
    from tests.localstack.test_localstack_journey import PINNED
    text = section("Deploy to LocalStack")
    assert f"localstack/localstack:{PINNED}" in text and f"**{PINNED}**" in text
    assert "make deploy-localstack" in text and "make test-localstack" in text
    assert f"aws-cdk-local@{make_variable('CDKLOCAL_VERSION')}" in text
    makefile = (ROOT / "Makefile").read_text()
    # the test runs exactly the README's target, and that target deploys with the LocalStack context
    assert '"make", "deploy-localstack"' in (ROOT / "tests/localstack/test_localstack_journey.py").read_text()
    assert "-c target=localstack" in makefile.split("deploy-localstack:")[1].split("\n\n")[0]
