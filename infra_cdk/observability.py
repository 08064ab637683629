"""Observability: a dashboard per module, one cascade dashboard, alarms on every function
(errors, throttles, p99 latency) and dead-letter queue, alarms on the business metrics
(infra_cdk.business), and composite alarms that tell a module's own fault from a cascade out
of the modules it calls.

Metrics are found by the names the module stacks give their functions and queues, so this
stack needs no export from them; it deploys last. Alarm names come from `infra_cdk.deployment`,
which also names the module stacks' deploy alarms (`-deploy-errors`, `-deploy-p99`, 1-minute,
no action: CodeDeploy's rollback is theirs); each module dashboard shows those as its deploy gates.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subs
from constructs import Construct

from functions import catalog
from infra_cdk import deployment
from infra_cdk.business import BusinessAlarms
from infra_cdk.deployment import function_alarm_name, module_alarm_name
from infra_cdk.module_stack import CONSUMER_TIMEOUT, queue_name
from infra_cdk.settings import DeploySettings

PERIOD = cdk.Duration.minutes(5)
TIMEOUTS_MS = {"api": 29_000, "consumer": CONSUMER_TIMEOUT * 1000, "schedule": 120_000, "authorizer": 29_000}


def lambda_metric(function_name: str, metric: str, statistic: str) -> cw.Metric:
    return cw.Metric(
        namespace="AWS/Lambda",
        metric_name=metric,
        dimensions_map={"FunctionName": function_name},
        statistic=statistic,
        period=PERIOD,
    )


def dlq_metric(name: str) -> cw.Metric:
    return cw.Metric(
        namespace="AWS/SQS",
        metric_name="ApproximateNumberOfMessagesVisible",
        dimensions_map={"QueueName": f"{name}-dlq"},
        statistic="Maximum",
        period=PERIOD,
    )


class ObservabilityStack(cdk.Stack):
    def __init__(
        self, scope: Construct, id: str, *, settings: DeploySettings, key: kms.IKey | None = None, **kwargs
    ) -> None:
        super().__init__(scope, id, description="FinFlow observability: dashboards, alarms, cascade alarms", **kwargs)
        self.s = settings
        topic_key = kms.Key(self, "AlarmsKey", enable_key_rotation=True, description="FinFlow alarm notifications")
        topic_key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["kms:GenerateDataKey*", "kms:Decrypt"],
                resources=["*"],
                conditions={"StringEquals": {"aws:SourceAccount": cdk.Aws.ACCOUNT_ID}},
            )
        )
        self.topic = sns.Topic(
            self, "Alarms", topic_name=f"{settings.prefix}-alarms", master_key=topic_key, enforce_ssl=True
        )
        if settings.alarm_email:
            self.topic.add_subscription(subs.EmailSubscription(settings.alarm_email))
        self.action = cw_actions.SnsAction(self.topic)
        self.module_alarms: dict[str, cw.IAlarm] = {}
        self.business: dict[str, BusinessAlarms] = {}
        self.dlq_alarms: dict[str, list[cw.IAlarm]] = {}
        for m in catalog.MODULES:
            self.module_alarms[m.key] = self._module(m)
        self.cascades = {m.key: self._cascade_alarms(m) for m in catalog.MODULES}
        self._cascade_dashboard()

    # -- per module ---------------------------------------------------------------------------
    def _functions(self, m: catalog.Module) -> list[catalog.Function]:
        return [fn for fn in m.functions]

    def _module(self, m: catalog.Module) -> cw.IAlarm:
        alarms: list[cw.IAlarm] = []
        widgets: list[cw.IWidget] = [
            cw.TextWidget(markdown=f"# {m.letter} {m.name}\nCalls: {', '.join(m.calls) or 'none'}", width=24, height=2)
        ]
        for fn in self._functions(m):
            name = self.s.function_name(m.key, fn.name)
            tag = f"{m.key.capitalize()}{fn.name.title().replace('-', '')}"
            errors, throttles = lambda_metric(name, "Errors", "Sum"), lambda_metric(name, "Throttles", "Sum")
            p99 = lambda_metric(name, "Duration", "p99")
            named = {what: function_alarm_name(self.s, m.key, fn.name, what) for what in ("errors", "throttles", "p99")}
            alarms += [
                errors.create_alarm(
                    self,
                    f"{tag}Errors",
                    alarm_name=named["errors"],
                    threshold=1,
                    evaluation_periods=1,
                    comparison_operator=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                    treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
                    alarm_description=f"{name} raised errors",
                ),
                throttles.create_alarm(
                    self,
                    f"{tag}Throttles",
                    alarm_name=named["throttles"],
                    threshold=1,
                    evaluation_periods=1,
                    comparison_operator=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                    treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
                    alarm_description=f"{name} was throttled",
                ),
                p99.create_alarm(
                    self,
                    f"{tag}Latency",
                    alarm_name=named["p99"],
                    threshold=0.8 * TIMEOUTS_MS[fn.kind],
                    evaluation_periods=3,
                    datapoints_to_alarm=2,
                    treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
                    alarm_description=f"{name} p99 latency above 80% of its timeout",
                ),
            ]
            widgets.append(
                cw.GraphWidget(
                    title=f"{fn.name}: invocations, errors, throttles",
                    width=8,
                    left=[lambda_metric(name, "Invocations", "Sum"), errors, throttles],
                )
            )
            widgets.append(
                cw.GraphWidget(
                    title=f"{fn.name}: duration p50/p99 (ms)",
                    width=8,
                    left=[lambda_metric(name, "Duration", "p50"), p99],
                )
            )
        business = self.business[m.key] = BusinessAlarms(self, self.s, m, self.action)
        alarms += business.health
        self.dlq_alarms[m.key] = []
        for sub in m.subscriptions:
            name = queue_name(self.s.prefix, m.key, sub.producer)
            depth = dlq_metric(name)
            self.dlq_alarms[m.key].append(
                depth.create_alarm(
                    self,
                    f"{m.key.capitalize()}From{sub.producer.capitalize()}Dlq",
                    alarm_name=f"{name}-dlq-depth",
                    threshold=1,
                    evaluation_periods=1,
                    comparison_operator=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                    treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
                    alarm_description=f"events from {sub.producer} {m.key} could not process",
                )
            )
            alarms.append(self.dlq_alarms[m.key][-1])
            widgets.append(
                cw.GraphWidget(
                    title=f"from {sub.producer}: queue and DLQ depth",
                    width=8,
                    left=[
                        cw.Metric(
                            namespace="AWS/SQS",
                            metric_name="ApproximateNumberOfMessagesVisible",
                            dimensions_map={"QueueName": name},
                            statistic="Maximum",
                            period=PERIOD,
                        ),
                        depth,
                    ],
                )
            )
        widgets += business.widgets
        widgets.append(self._deploy_gates(m))
        cw.Dashboard(
            self, f"{m.key.capitalize()}Dashboard", dashboard_name=f"{self.s.prefix}-{m.key}", widgets=[widgets]
        )
        return cw.CompositeAlarm(
            self,
            f"{m.key.capitalize()}Failing",
            composite_alarm_name=module_alarm_name(self.s, m.key, "failing"),
            alarm_description=f"{m.service}: any of its alarms",
            alarm_rule=cw.AlarmRule.any_of(*alarms),
        )

    def _deploy_gates(self, m: catalog.Module) -> cw.IWidget:
        """The module stack's deploy alarms, by name: what CodeDeploy watches while it shifts m's
        aliases (and, for the module alarm, while it shifts the aliases of what m consumes)."""
        names = [deployment.module_errors_alarm(self.s, m.key)]
        for fn in deployment.invoked_functions(m):
            names += [deployment.errors_alarm(self.s, m.key, fn.name), deployment.latency_alarm(self.s, m.key, fn.name)]
        alarms = [cw.Alarm.from_alarm_name(self, f"{m.key.capitalize()}Gate{i}", name) for i, name in enumerate(names)]
        return cw.AlarmStatusWidget(
            title=f"{m.key}: deploy gates (a deployment rolls back while one is in ALARM)",
            alarms=alarms,
            width=24,
            height=3,
        )

    # -- cascades -----------------------------------------------------------------------------
    def _cascade_alarms(self, m: catalog.Module) -> dict[str, cw.CompositeAlarm]:
        """`<m>-own-fault`: m fails while every module it depends on is fine (page m's owners);
        `<m>-failing-because-<dep>`: m fails while a dependency fails too (page the dependency)."""
        deps = catalog.transitive_calls(m.key)
        failing = self.module_alarms[m.key]
        action = self.action
        out: dict[str, cw.CompositeAlarm] = {}
        own_rule = (
            cw.AlarmRule.all_of(failing, cw.AlarmRule.not_(cw.AlarmRule.any_of(*(self.module_alarms[d] for d in deps))))
            if deps
            else cw.AlarmRule.from_alarm(failing, cw.AlarmState.ALARM)
        )
        out["own"] = cw.CompositeAlarm(
            self,
            f"{m.key.capitalize()}OwnFault",
            composite_alarm_name=module_alarm_name(self.s, m.key, "own-fault"),
            alarm_description=f"{m.service} fails while {', '.join(deps) or 'nothing it calls'} is healthy: its own fault",
            alarm_rule=own_rule,
        )
        out["own"].add_alarm_action(action)
        for d in deps:
            alarm = cw.CompositeAlarm(
                self,
                f"{m.key.capitalize()}Because{d.capitalize()}",
                composite_alarm_name=module_alarm_name(self.s, m.key, f"failing-because-{d}"),
                alarm_description=f"{m.service} fails while {catalog.module(d).service} fails: a cascade",
                alarm_rule=cw.AlarmRule.all_of(failing, self.module_alarms[d]),
            )
            alarm.add_alarm_action(action)
            out[d] = alarm
        return out

    def _cascade_dashboard(self) -> None:
        rows: list[list[cw.IWidget]] = [
            [
                cw.TextWidget(
                    markdown=(
                        "# FinFlow cascades\nEach row is a deploy wave; a module's *own fault* fires only while everything it calls "
                        "is healthy, *failing because X* while X fails too."
                    ),
                    width=24,
                    height=2,
                )
            ]
        ]
        for wave in catalog.deploy_waves():
            row: list[cw.IWidget] = []
            for key in wave:
                alarms = [self.module_alarms[key], *self.cascades[key].values()]
                row.append(
                    cw.AlarmStatusWidget(title=f"{catalog.module(key).service}", alarms=alarms, width=6, height=4)
                )
                api = self.s.function_name(key, "api")
                row.append(
                    cw.GraphWidget(
                        title=f"{key} api errors vs. invocations",
                        width=6,
                        height=4,
                        left=[lambda_metric(api, "Errors", "Sum"), lambda_metric(api, "Invocations", "Sum")],
                    )
                )
            rows.append(row)
        rows.append(
            [
                cw.TextWidget(
                    markdown=(
                        "## Business metrics, module by module\nOutbox backlogs, pending payments, payment outcomes, "
                        "AML alerts (namespace FinFlow) and dead letters; health alarms feed the cascade alarms above."
                    ),
                    width=24,
                    height=2,
                )
            ]
        )
        rows += [self._business_row(m) for m in catalog.MODULES]
        cw.Dashboard(self, "CascadeDashboard", dashboard_name=f"{self.s.prefix}-cascade", widgets=rows)

    def _business_row(self, m: catalog.Module) -> list[cw.IWidget]:
        business = self.business[m.key]
        row: list[cw.IWidget] = [
            cw.AlarmStatusWidget(
                title=f"{m.letter} {m.name}: business and dead-letter alarms",
                alarms=[*business.health, *business.signals, *self.dlq_alarms[m.key]],
                width=6,
                height=4,
            ),
            *business.widgets,
        ]
        if m.subscriptions:
            row.append(
                cw.GraphWidget(
                    title=f"{m.key}: dead letters by producer",
                    width=6,
                    height=4,
                    left=[
                        dlq_metric(queue_name(self.s.prefix, m.key, sub.producer)).with_(label=sub.producer)
                        for sub in m.subscriptions
                    ],
                )
            )
        return row
