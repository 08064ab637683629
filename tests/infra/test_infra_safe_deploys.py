"""Safe deploys on the synthesized templates: every invoked function serves through a `live`
alias that every trigger targets; on AWS a CodeDeploy group per alias shifts traffic and rolls
back on the function's alarms and on those of the modules consuming it (from the catalog);
arm64 on AWS, x86_64 on LocalStack; SnapStart on the request path."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from functions import catalog
from infra_cdk import deployment
from infra_cdk.app import stack_id
from infra_cdk.settings import DeploySettings
from tests.infra.support import FOUNDATION

S = DeploySettings(stage="dev")
DEPLOY_TIME = ("foundation-db-setup", "foundation-secrets-seeder", "-migrate")  # custom-resource handlers


def invoked() -> dict[str, catalog.Function]:
    """Function name -> catalog entry, for every function something invokes."""
    return {S.function_name(m.key, fn.name): fn for m in catalog.MODULES for fn in deployment.invoked_functions(m)}


def functions(assembly) -> dict[str, tuple[str, str, dict]]:
    """Function name -> (stack, logical id, properties)."""
    return {
        r["Properties"]["FunctionName"]: (stack, k, r["Properties"])
        for stack, k, r in assembly.all_resources("AWS::Lambda::Function")
    }


def aliases(assembly) -> dict[str, tuple[str, str, dict]]:
    """Function name -> (stack, logical id, alias resource) of its `live` alias."""
    out = {}
    for stack, k, r in assembly.all_resources("AWS::Lambda::Alias"):
        fn = assembly.templates[stack]["Resources"][r["Properties"]["FunctionName"]["Ref"]]
        assert r["Properties"]["Name"] == "live"
        assert fn["Properties"]["FunctionName"] not in out
        out[fn["Properties"]["FunctionName"]] = (stack, k, r)
    return out


def alias_ids(assembly, stack: str) -> set[str]:
    return set(assembly.resources(stack, "AWS::Lambda::Alias"))


def refs(value) -> set[str]:
    """Every logical id a CloudFormation value refers to (Ref or GetAtt)."""
    found: set[str] = set()
    if isinstance(value, dict):
        if "Ref" in value:
            found.add(value["Ref"])
        if "Fn::GetAtt" in value:
            found.add(value["Fn::GetAtt"][0])
        for v in value.values():
            found |= refs(v)
    elif isinstance(value, list):
        for v in value:
            found |= refs(v)
    return found


# -- aliases and what invokes them ---------------------------------------------------------------


@pytest.mark.parametrize("target", ["aws"])  # LocalStack: no aliases (below)
def test_every_invoked_function_serves_through_a_live_alias_and_deploy_handlers_do_not(target, request):
    assembly = request.getfixturevalue(target)
    fns, live = functions(assembly), aliases(assembly)
    assert set(invoked()) <= set(fns)  # the catalog's invoked functions are all deployed
    assert set(live) == set(invoked())
    for name, (stack, _, alias) in live.items():
        version = assembly.templates[stack]["Resources"][alias["Properties"]["FunctionVersion"]["Fn::GetAtt"][0]]
        assert version["Type"] == "AWS::Lambda::Version"
        assert version["Properties"]["FunctionName"] == {"Ref": fns[name][1]}  # its own current version
    assert [n for n in fns if n not in live] and all(n.endswith(DEPLOY_TIME) for n in fns if n not in live)


@pytest.mark.parametrize("target", ["aws"])  # LocalStack: no aliases (below)
def test_the_gateway_integrations_and_their_permissions_name_the_alias(target, request):
    assembly = request.getfixturevalue(target)
    live = aliases(assembly)
    methods = [
        m["Properties"]
        for m in assembly.resources(FOUNDATION, "AWS::ApiGateway::Method").values()
        if m["Properties"].get("Integration", {}).get("Type") == "AWS_PROXY"
    ]
    assert methods
    for m in catalog.MODULES:
        api = S.function_name(m.key, "api")
        uris = [
            json.dumps(p["Integration"]["Uri"])
            for p in methods
            if f"function:{api}" in json.dumps(p["Integration"]["Uri"])
        ]
        assert uris and all(f"function:{api}:live/invocations" in uri for uri in uris), m.key
        # the permission API Gateway invokes with is on that same qualified ARN: the alias
        stack, alias_id, _ = live[api]
        gateway = [
            p["Properties"]
            for p in assembly.resources(stack, "AWS::Lambda::Permission").values()
            if p["Properties"]["Principal"] == "apigateway.amazonaws.com"
        ]
        assert [p["FunctionName"] for p in gateway] == [{"Ref": alias_id}], m.key
    for p in methods:  # nothing reaches $LATEST
        assert ":live/invocations" in json.dumps(p["Integration"]["Uri"])


def test_the_authorizer_invokes_its_alias(aws):
    stack, alias_id, _ = aliases(aws)[S.function_name("auth", "authorizer")]
    assert stack == FOUNDATION
    authorizer = next(iter(aws.resources(FOUNDATION, "AWS::ApiGateway::Authorizer").values()))["Properties"]
    assert refs(authorizer["AuthorizerUri"]) == {alias_id}
    permissions = [
        p["Properties"]
        for p in aws.resources(FOUNDATION, "AWS::Lambda::Permission").values()
        if "/authorizers/" in json.dumps(p["Properties"].get("SourceArn"))
    ]
    assert [p["FunctionName"] for p in permissions] == [{"Ref": alias_id}]


@pytest.mark.parametrize("target", ["aws"])  # LocalStack: no aliases (below)
def test_queues_schedules_and_every_permission_reach_aliases_only(target, request):
    assembly = request.getfixturevalue(target)
    fn_ids = {(stack, k) for stack, k, _ in assembly.all_resources("AWS::Lambda::Function")}
    mappings = assembly.all_resources("AWS::Lambda::EventSourceMapping")
    assert len(mappings) == sum(
        len(m.subscriptions)
        for m in catalog.MODULES
        if any(fn.kind == "consumer" for fn in deployment.invoked_functions(m))
    )
    for stack, k, r in mappings:
        assert refs(r["Properties"]["FunctionName"]) <= alias_ids(assembly, stack) and refs(
            r["Properties"]["FunctionName"]
        )
        assert json.dumps(r["Properties"]["FunctionName"]).endswith(':live"]]}'), k
    schedules = 0
    for stack, k, r in assembly.all_resources("AWS::Events::Rule"):
        for target_ in r["Properties"].get("Targets", []):
            ids = refs(target_["Arn"])
            if any(
                i in assembly.templates[stack]["Resources"]
                and assembly.templates[stack]["Resources"][i]["Type"].startswith("AWS::Lambda::")
                for i in ids
            ):
                schedules += 1
                assert ids <= alias_ids(assembly, stack), (stack, k)
    assert schedules == sum(
        1 for m in catalog.MODULES for fn in deployment.invoked_functions(m) if fn.kind == "schedule"
    )
    for stack, k, r in assembly.all_resources("AWS::Lambda::Permission"):
        assert not refs(r["Properties"]["FunctionName"]) & {i for s, i in fn_ids if s == stack}, (stack, k)


# -- CodeDeploy: canaries, rollback, the consumers' alarms -----------------------------------------


def groups(aws) -> dict[str, dict]:
    """Function name -> its deployment group's properties, found through the alias's update policy."""
    out = {}
    for name, (stack, _, alias) in aliases(aws).items():
        policy = alias["UpdatePolicy"]["CodeDeployLambdaAliasUpdate"]
        group = aws.templates[stack]["Resources"][policy["DeploymentGroupName"]["Ref"]]
        assert group["Type"] == "AWS::CodeDeploy::DeploymentGroup"
        assert group["Properties"]["ApplicationName"] == policy["ApplicationName"]
        out[name] = (stack, group["Properties"])
    return out


def alarm_names(aws, stack: str, group: dict) -> list[str]:
    resources = aws.templates[stack]["Resources"]
    return [
        a["Name"] if isinstance(a["Name"], str) else resources[a["Name"]["Ref"]]["Properties"]["AlarmName"]
        for a in group["AlarmConfiguration"]["Alarms"]
    ]


def expected_watch(module: str, function: str) -> set[str]:
    """From the catalog: own errors and p99, the module's errors, every caller's module errors and
    every (deployed) subscriber's consumer errors."""
    callers = {m.key for m in catalog.MODULES if module in m.calls}
    subscribers = {
        m.key
        for m in catalog.MODULES
        if any(s.producer == module for s in m.subscriptions) and S.function_name(m.key, "events") in invoked()
    } - callers
    own = S.function_name(module, function)
    return (
        {f"{own}-deploy-errors", f"{own}-deploy-p99", f"finflow-dev-{module}-deploy-errors"}
        | {f"finflow-dev-{c}-deploy-errors" for c in callers}
        | {f"finflow-dev-{c}-events-deploy-errors" for c in subscribers}
    )


def test_every_alias_deploys_gradually_and_rolls_back_on_alarms(aws):
    by_name = groups(aws)
    assert set(by_name) == set(invoked())
    for name, (_stack, group) in by_name.items():
        kind = invoked()[name].kind
        canary = kind in ("api", "authorizer")  # on the request path
        assert group["DeploymentConfigName"] == (
            "CodeDeployDefault.LambdaCanary10Percent5Minutes"
            if canary
            else "CodeDeployDefault.LambdaLinear10PercentEvery1Minute"
        ), name
        assert group["AutoRollbackConfiguration"]["Enabled"] is True
        assert {"DEPLOYMENT_STOP_ON_ALARM", "DEPLOYMENT_FAILURE"} <= set(group["AutoRollbackConfiguration"]["Events"])
        assert group["AlarmConfiguration"]["Enabled"] is True and not group["AlarmConfiguration"].get(
            "IgnorePollAlarmFailure"
        )
        assert 3 <= len(group["AlarmConfiguration"]["Alarms"]) <= 10, name  # CodeDeploy takes ten at most


def test_a_deployment_watches_its_own_alarms_and_those_of_the_modules_consuming_it(aws):
    for name, (stack, group) in groups(aws).items():
        module = next(m.key for m in catalog.MODULES if name.startswith(f"finflow-dev-{m.key}-"))
        function = name.removeprefix(f"finflow-dev-{module}-")
        assert set(alarm_names(aws, stack, group)) == expected_watch(module, function), name
    # the catalog's own example: Payment and KYC call Wallet, so a Wallet deploy that breaks them rolls back
    callers = {m.key for m in catalog.MODULES if "wallet" in m.calls}
    assert {"payment", "kyc"} <= callers
    wallet_api = set(alarm_names(aws, *groups(aws)[S.function_name("wallet", "api")]))
    assert {f"finflow-dev-{c}-deploy-errors" for c in callers} <= wallet_api


def test_every_watched_alarm_is_created_once_in_a_module_stack_or_foundation(aws):
    created: dict[str, str] = {}
    for stack, _, r in aws.all_resources("AWS::CloudWatch::Alarm"):
        created.setdefault(r["Properties"]["AlarmName"], stack)
    for name, (stack, group) in groups(aws).items():
        for alarm in alarm_names(aws, stack, group):
            assert alarm in created and created[alarm] != stack_id("observability"), (name, alarm)


@pytest.mark.parametrize("target", ["aws", "localstack"])
def test_alarm_names_are_unique_across_every_stack(target, request):
    assembly = request.getfixturevalue(target)
    names = [r["Properties"]["AlarmName"] for _, _, r in assembly.all_resources("AWS::CloudWatch::Alarm")]
    names += [r["Properties"]["AlarmName"] for _, _, r in assembly.all_resources("AWS::CloudWatch::CompositeAlarm")]
    assert len(names) == len(set(names)) > 0


def test_deploy_alarms_judge_each_minute(aws):
    alarms = {r["Properties"]["AlarmName"]: r["Properties"] for _, _, r in aws.all_resources("AWS::CloudWatch::Alarm")}
    for name, _fn in invoked().items():
        errors, p99 = alarms[f"{name}-deploy-errors"], alarms[f"{name}-deploy-p99"]
        assert (errors["MetricName"], errors["Period"], errors["Threshold"]) == ("Errors", 60, 1)
        assert errors["Dimensions"] == [{"Name": "FunctionName", "Value": name}]
        assert p99["ExtendedStatistic"] == "p99" and p99["Period"] == 60
        timeout = functions(aws)[name][2]["Timeout"]
        assert p99["Threshold"] == pytest.approx(0.8 * timeout * 1000)
        assert "AlarmActions" not in errors  # CodeDeploy's rollback is their action; Observability pages
    for m in catalog.MODULES:  # a module's errors: the sum over each function it deploys
        metrics = alarms[f"finflow-dev-{m.key}-deploy-errors"]["Metrics"]
        summed = {q["MetricStat"]["Metric"]["Dimensions"][0]["Value"] for q in metrics if "MetricStat" in q}
        assert summed == {S.function_name(m.key, fn.name) for fn in deployment.invoked_functions(m)}
        assert any(q.get("Expression") == "SUM(METRICS())" for q in metrics)


def test_localstack_invokes_latest_without_aliases_or_codedeploy(localstack):
    """LocalStack's community AWS::Lambda::Alias cannot be updated: a redeploy with new code
    failed "Alias already exists". There every trigger invokes the function itself."""
    assert not localstack.all_resources("AWS::CodeDeploy::DeploymentGroup")
    assert not localstack.all_resources("AWS::Lambda::Alias")
    methods = [
        m["Properties"]
        for m in localstack.resources(FOUNDATION, "AWS::ApiGateway::Method").values()
        if m["Properties"].get("Integration", {}).get("Type") == "AWS_PROXY"
    ]
    assert methods and not [m for m in methods if ":live" in json.dumps(m["Integration"]["Uri"])]


def test_a_hotfix_can_deploy_with_the_alarms_off():
    import aws_cdk as cdk
    from aws_cdk import aws_lambda as lambda_
    from aws_cdk.assertions import Template

    def alarm_config(context: dict) -> dict:
        stack = cdk.Stack(cdk.App(context=context), "Probe")
        fn = lambda_.Function(
            stack,
            "Fn",
            runtime=lambda_.Runtime.PYTHON_3_13,
            handler="a.handler",
            code=lambda_.Code.from_inline("def handler(e, c): return 1"),
            timeout=cdk.Duration.seconds(29),
        )
        api = next(f for f in catalog.module("wallet").functions if f.kind == "api")
        deployment.publish(stack, "Api", fn, module="wallet", function=api, settings=S)
        groups_ = Template.from_stack(stack).find_resources("AWS::CodeDeploy::DeploymentGroup")
        return next(iter(groups_.values()))["Properties"]["AlarmConfiguration"]

    assert alarm_config({})["Enabled"] is True
    assert alarm_config({"ignore_deploy_alarms": "true"})["Enabled"] is False


def test_a_layer_only_change_publishes_a_new_version():
    """The app's feature flags make a new layer version a new function version; otherwise the
    alias would keep serving the old dependencies."""
    import tempfile

    import aws_cdk as cdk
    from aws_cdk import aws_lambda as lambda_
    from aws_cdk.assertions import Template

    from infra_cdk.app import FEATURE_FLAGS

    def version_id(content: str) -> str:
        folder = Path(tempfile.mkdtemp()) / "python"
        folder.mkdir()
        (folder / "dep.py").write_text(content)
        app = cdk.App(context=dict(FEATURE_FLAGS))
        layers, stack = cdk.Stack(app, "Layers"), cdk.Stack(app, "Module")
        layer = lambda_.LayerVersion(layers, "Deps", code=lambda_.Code.from_asset(str(folder.parent)))
        fn = lambda_.Function(
            stack,
            "Fn",
            runtime=lambda_.Runtime.PYTHON_3_13,
            handler="a.handler",
            layers=[layer],
            code=lambda_.Code.from_inline("def handler(e, c): return 1"),
        )
        lambda_.Alias(stack, "Live", alias_name="live", version=fn.current_version)
        return next(iter(Template.from_stack(stack).find_resources("AWS::Lambda::Version")))

    assert version_id("VERSION = 1") != version_id("VERSION = 2")


# -- arm64 and SnapStart ------------------------------------------------------------------------


def elf_machines(folder: Path) -> set[str]:
    """The architectures of the shared libraries under `folder` (ELF e_machine)."""
    names = {62: "x86_64", 183: "aarch64"}
    found = set()
    for lib in folder.rglob("*.so*"):
        head = lib.read_bytes()[:20]
        if head[:4] == b"\x7fELF":
            found.add(names.get(int.from_bytes(head[18:20], "little"), "other"))
    return found


def asset_folder(assembly, stack: str, s3_key: str) -> Path:
    files = json.loads((assembly.outdir / f"{stack}.assets.json").read_text())["files"]
    return assembly.outdir / files[s3_key.removesuffix(".zip")]["source"]["path"]


def test_arm64_on_aws_with_an_aarch64_dependencies_layer(aws):
    for name, (_stack, _, props) in functions(aws).items():
        assert props["Architectures"] == ["arm64"], name
    layers = aws.resources(FOUNDATION, "AWS::Lambda::LayerVersion")
    deps = next(layer["Properties"] for layer in layers.values() if "third-party" in layer["Properties"]["Description"])
    assert deps["CompatibleArchitectures"] == ["arm64"]
    assert elf_machines(asset_folder(aws, FOUNDATION, deps["Content"]["S3Key"])) == {"aarch64"}


def test_x86_64_on_localstack_which_runs_functions_on_this_host(localstack):
    for name, (_stack, _, props) in functions(localstack).items():
        assert props.get("Architectures", ["x86_64"]) == ["x86_64"], name
    stack, _, api = functions(localstack)[S.function_name("wallet", "api")]
    binaries = elf_machines(asset_folder(localstack, stack, api["Code"]["S3Key"]))
    layers = [layer["Properties"] for _, _, layer in localstack.all_resources("AWS::Lambda::LayerVersion")]
    for layer in layers:  # wherever the dependencies travel, as a layer or in the code
        binaries |= elf_machines(asset_folder(localstack, FOUNDATION, layer["Content"]["S3Key"]))
    assert binaries == {"x86_64"}


def test_snapstart_on_the_request_path_on_aws_only(aws, localstack):
    for name, (_, _, props) in functions(aws).items():
        on_request_path = name in invoked() and invoked()[name].kind in ("api", "authorizer")
        assert (props.get("SnapStart") == {"ApplyOn": "PublishedVersions"}) == on_request_path, name
    assert not [n for n, (_, _, p) in functions(localstack).items() if "SnapStart" in p]
