"""Safe deploys: every invoked FinFlow function serves through a `live` alias, and on AWS a
CodeDeploy deployment group moves that alias to a new version gradually, rolling it back
when an alarm fires — the function's own, and those of the modules that consume it.

- Which functions: every function something invokes (API Gateway, the authorizer, SQS event
  sources, schedules). Not the deploy-time custom-resource handlers (database setup, the
  secrets seed, migrations): CloudFormation invokes them once per deploy by ARN, nothing
  shifts traffic to them, and a failure already fails (and rolls back) the stack.
- Consumers' alarms: per the catalog, a module X's deployment also watches the errors of
  every module that calls X synchronously (its whole module alarm) or subscribes to X's
  events (its event consumer's alarm), so a Wallet change that breaks Payment rolls Wallet
  back. Consumers deploy after producers, so a producer's group names those alarms — no
  cross-stack reference, no cycle. Every alarm name is made here, both where an alarm is
  created and where it is watched.
- AWS only: LocalStack's community edition has no CodeDeploy, and its AWS::Lambda::Alias
  cannot be updated (a redeploy with new code fails "Alias already exists"), so there every
  trigger invokes the function itself; the deploy alarms exist on both targets.
- `-c ignore_deploy_alarms=true` deploys with the alarms switched off (a hotfix while a
  watched alarm is already in ALARM, which would otherwise stop every deployment at once).
"""

from __future__ import annotations

import re

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_codedeploy as codedeploy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from functions import catalog
from infra_cdk import assets
from infra_cdk.children import default_child, existing_child
from infra_cdk.nag import acknowledge
from infra_cdk.settings import DeploySettings

ALIAS = "live"
PERIOD = cdk.Duration.minutes(1)  # a 5-minute canary sees five datapoints
MAX_ALARMS = 10  # CodeDeploy's limit per deployment group
INVOKED = ("api", "authorizer", "consumer", "schedule")
# API-facing functions take a canary: 10% of requests for 5 minutes, then all. Consumers and
# schedules shift 10% a minute: a batch or a run is one invocation, so a 10% canary would send
# the new version almost nothing; ten minutes of linear shifting gives the alarms a window.
DEPLOYMENT_CONFIGS = {
    "api": codedeploy.LambdaDeploymentConfig.CANARY_10_PERCENT_5_MINUTES,
    "authorizer": codedeploy.LambdaDeploymentConfig.CANARY_10_PERCENT_5_MINUTES,
    "consumer": codedeploy.LambdaDeploymentConfig.LINEAR_10_PERCENT_EVERY_1_MINUTE,
    "schedule": codedeploy.LambdaDeploymentConfig.LINEAR_10_PERCENT_EVERY_1_MINUTE,
}
# SnapStart (AWS only): the request path, where a cold start is a user's wait. Not consumers
# or schedules, where it would be paid for (Python's snapshot cache and restores) unseen.
SNAPSTART = ("api", "authorizer")


# -- names (the one place) ---------------------------------------------------------------------


def invoked_functions(m: catalog.Module) -> tuple[catalog.Function, ...]:
    """The functions of `m` a build deploys and something invokes: its API (a placeholder
    handler when the module is not built) and authorizer always, the rest when their handler
    exists. The module stack deploys exactly these, so every alarm named here exists."""
    built = assets.handler_present(f"functions.{m.key}.api.handler")
    return tuple(
        fn
        for fn in m.functions
        if fn.kind in ("api", "authorizer") or (fn.kind in INVOKED and built and assets.handler_present(fn.handler))
    )


def function_alarm_name(s: DeploySettings, module: str, function: str, what: str) -> str:
    """`finflow-<stage>-<module>-<function>-<what>`: Observability's errors/throttles/p99 and
    the deployment's deploy-errors/deploy-p99."""
    return f"{s.function_name(module, function)}-{what}"


def module_alarm_name(s: DeploySettings, module: str, what: str) -> str:
    """`finflow-<stage>-<module>-<what>`: Observability's failing/own-fault/failing-because-<x>
    and the deployment's deploy-errors."""
    return f"{s.prefix}-{module}-{what}"


def errors_alarm(s: DeploySettings, module: str, function: str) -> str:
    return function_alarm_name(s, module, function, "deploy-errors")


def latency_alarm(s: DeploySettings, module: str, function: str) -> str:
    return function_alarm_name(s, module, function, "deploy-p99")


def module_errors_alarm(s: DeploySettings, module: str) -> str:
    return module_alarm_name(s, module, "deploy-errors")


def consumer_alarms(s: DeploySettings, key: str) -> list[str]:
    """The alarms of the modules consuming `key` (catalog.dependents) that its deployments
    watch: a caller's whole module alarm (any of its functions may call), else the consumer's."""
    names = []
    for consumer, kinds in sorted(catalog.dependents(key).items()):
        if consumer == key:
            continue
        if "sync" in kinds:
            names.append(module_errors_alarm(s, consumer))
        else:
            events = [fn for fn in invoked_functions(catalog.module(consumer)) if fn.kind == "consumer"]
            names += [errors_alarm(s, consumer, fn.name) for fn in events]
    return names


def watched_alarms(s: DeploySettings, module: str, function: str) -> list[str]:
    """What a function's deployment group watches: its own errors and p99; its module's errors
    (the module's functions share one code bundle, and Auth's authorizer reads Auth's keys
    through Auth's API); and its consumers' errors."""
    names = [
        errors_alarm(s, module, function),
        latency_alarm(s, module, function),
        module_errors_alarm(s, module),
        *consumer_alarms(s, module),
    ]
    if len(names) > MAX_ALARMS:
        raise ValueError(f"{module}/{function} would watch {len(names)} alarms; CodeDeploy takes {MAX_ALARMS}")
    return names


# -- constructs --------------------------------------------------------------------------------


def _lambda_metric(function_name: str, metric: str, statistic: str) -> cw.Metric:
    return cw.Metric(
        namespace="AWS/Lambda",
        metric_name=metric,
        dimensions_map={"FunctionName": function_name},
        statistic=statistic,
        period=PERIOD,
    )


def _id(name: str) -> str:
    return "".join(part.capitalize() for part in re.split(r"[^A-Za-z0-9]+", name))


def module_alarm(scope: Construct, m: catalog.Module, s: DeploySettings) -> cw.Alarm:
    """`<module>-deploy-errors`: any function of the module raised an error this minute (the
    authorizer, which lives in Foundation, counts for Auth, found by its name)."""
    functions = invoked_functions(m)
    if len(functions) > MAX_ALARMS:
        raise ValueError(f"{m.key}: a metric-math alarm sums at most {MAX_ALARMS} metrics")
    metrics = {
        f"e{i}": _lambda_metric(s.function_name(m.key, fn.name), "Errors", "Sum") for i, fn in enumerate(functions)
    }
    return cw.MathExpression(
        expression="SUM(METRICS())", using_metrics=metrics, period=PERIOD, label=f"{m.key} errors"
    ).create_alarm(
        scope,
        "DeployErrors",
        alarm_name=module_errors_alarm(s, m.key),
        threshold=1,
        evaluation_periods=1,
        comparison_operator=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
        alarm_description=f"a function of {m.key} raised errors: stops (and rolls back) deployments of {m.key} "
        f"and of what it consumes",
    )


def _function_alarms(
    scope: Construct, id: str, fn: lambda_.Function, s: DeploySettings, module: str, function: str
) -> list[cw.Alarm]:
    name = s.function_name(module, function)
    timeout_ms = fn.timeout.to_milliseconds() if fn.timeout else 3000
    errors = _lambda_metric(name, "Errors", "Sum").create_alarm(
        scope,
        f"{id}DeployErrors",
        alarm_name=errors_alarm(s, module, function),
        threshold=1,
        evaluation_periods=1,
        comparison_operator=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
        alarm_description=f"{name} raised errors this minute",
    )
    latency = _lambda_metric(name, "Duration", "p99").create_alarm(
        scope,
        f"{id}DeployP99",
        alarm_name=latency_alarm(s, module, function),
        threshold=0.8 * timeout_ms,
        evaluation_periods=3,
        datapoints_to_alarm=2,
        treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
        alarm_description=f"{name} p99 latency above 80% of its timeout in 2 of 3 minutes",
    )
    return [errors, latency]


def _deploy_role(stack: cdk.Stack) -> iam.IRole:
    """One CodeDeploy service role per stack, with AWS's policy for Lambda deployments."""
    role = existing_child(stack, "DeployRole", iam.Role)
    if role is None:
        role = iam.Role(
            stack,
            "DeployRole",
            assumed_by=iam.ServicePrincipal("codedeploy.amazonaws.com"),
            description="CodeDeploy: shifts the live aliases of this stack's functions",
            managed_policies=[
                iam.ManagedPolicy.from_aws_managed_policy_name("service-role/AWSCodeDeployRoleForLambdaLimited")
            ],
        )
        acknowledge(
            role,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
            "AWSCodeDeployRoleForLambdaLimited]",
            "AWS's own minimal policy for CodeDeploy's Lambda deployments: move an alias, read the alarms",
        )
    return role


def _application(stack: cdk.Stack) -> codedeploy.ILambdaApplication:
    app = existing_child(stack, "Deploys", codedeploy.LambdaApplication)
    return app if app is not None else codedeploy.LambdaApplication(stack, "Deploys")


def ignore_alarms(scope: Construct) -> bool:
    return str(scope.node.try_get_context("ignore_deploy_alarms") or "false").lower() == "true"


def publish(
    scope: Construct,
    id: str,
    fn: lambda_.Function,
    *,
    module: str,
    function: catalog.Function,
    settings: DeploySettings,
) -> lambda_.IFunction:
    """`fn`'s current version behind the `live` alias, with the function's deploy alarms, and on
    AWS a deployment group that shifts the alias and rolls back on the watched alarms.

    On LocalStack (community 2026.3) `fn` itself: its AWS::Lambda::Alias provider cannot update
    an alias (a redeploy with new code fails "Alias already exists"), so triggers invoke $LATEST."""
    if function.kind not in INVOKED:
        raise ValueError(f"{module}/{function.name}: only invoked functions are published ({function.kind})")
    if settings.aws and function.kind in SNAPSTART:
        if not fn.runtime.supports_snap_start:
            raise ValueError(f"SnapStart does not support {fn.runtime.name}")
        # set on the resource, so the version's hash (current_version) sees it and publishes anew
        default_child(fn, lambda_.CfnFunction).snap_start = lambda_.CfnFunction.SnapStartProperty(
            apply_on="PublishedVersions"
        )
    own = _function_alarms(scope, id, fn, settings, module, function.name)
    if not settings.aws:
        return fn
    alias = lambda_.Alias(
        scope,
        f"{id}Live",
        alias_name=ALIAS,
        version=fn.current_version,
        description=f"what every trigger of {fn.function_name} invokes",
    )
    stack = cdk.Stack.of(scope)
    mine = {errors_alarm(settings, module, function.name), latency_alarm(settings, module, function.name)}
    others = [name for name in watched_alarms(settings, module, function.name) if name not in mine]
    alarms = own + [cw.Alarm.from_alarm_name(scope, f"{id}Watches{_id(name)}", name) for name in others]
    codedeploy.LambdaDeploymentGroup(
        scope,
        f"{id}Deploy",
        alias=alias,
        application=_application(stack),
        role=_deploy_role(stack),
        deployment_group_name=settings.function_name(module, function.name),
        deployment_config=DEPLOYMENT_CONFIGS[function.kind],
        alarms=alarms,
        ignore_alarm_configuration=ignore_alarms(scope),
        auto_rollback=codedeploy.AutoRollbackConfig(
            failed_deployment=True, stopped_deployment=True, deployment_in_alarm=True
        ),
    )
    return alias


def live_name(function_name: str) -> str:
    """The qualified name (`<function>:live`) the gateway's integrations invoke."""
    return f"{function_name}:{ALIAS}"
