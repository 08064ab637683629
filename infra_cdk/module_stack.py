"""One stack per catalog module: its functions, queues, rules, schedules, migrations and
bucket, with an IAM role that reaches only what the module owns, and invokes only the API
functions of the modules it calls (finflow.contracts.calls)."""

from __future__ import annotations

import hashlib
import json

import aws_cdk as cdk
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as sm
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from finflow.config import settings as runtime_settings
from finflow.contracts import calls
from functions import catalog
from infra_cdk import assets, deployment
from infra_cdk.api import function_arn
from infra_cdk.children import default_child
from infra_cdk.deploy_steps import deploy_step
from infra_cdk.foundation import FoundationStack
from infra_cdk.lambdas import FunctionSpec, lambda_role, make_function
from infra_cdk.nag import acknowledge

CONSUMER_TIMEOUT = 60
MAX_RECEIVE_COUNT = 3  # as the devserver: a record failing three times rests in the DLQ


def queue_name(prefix: str, consumer: str, producer: str) -> str:
    return f"{prefix}-{consumer}-from-{producer}"  # devserver.bootstrap.queue_name, with the stage


def _nag_arn(arn: str) -> str:
    """An ARN as cdk-nag prints it in a finding (pseudo parameters as <AWS::Name>)."""
    for token, name in (
        (cdk.Aws.PARTITION, "Partition"),
        (cdk.Aws.REGION, "Region"),
        (cdk.Aws.ACCOUNT_ID, "AccountId"),
    ):
        arn = arn.replace(token, f"<AWS::{name}>")
    return arn


def migrations_hash(key: str) -> str:
    folder = assets.ROOT / "functions" / key / "migrations"
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*.py")):
        digest.update(str(path.relative_to(folder)).encode() + path.read_bytes())
    return digest.hexdigest()[:16]


class ModuleStack(cdk.Stack):
    def __init__(
        self, scope: Construct, id: str, *, module: catalog.Module, foundation: FoundationStack, **kwargs
    ) -> None:
        super().__init__(scope, id, description=f"FinFlow {module.letter}: {module.name}", **kwargs)
        self.m, self.f, self.s = module, foundation, foundation.settings
        # before any grant: a grant on Foundation's key then stays in this stack's policies
        self.add_stack_dependency(foundation)
        self.built = assets.handler_present(f"functions.{module.key}.api.handler")
        self.code = foundation.code(module.key)
        self.role = lambda_role(self, "Role", f"FinFlow {module.key}: every function of the module")
        sms = ("SMS are published to phone numbers, which have no ARN",) if module.key == "notification" else ()
        foundation.tracing_and_vpc_acknowledgements(self.role, in_vpc=True, also=sms)
        self.env_vars = self._environment()
        self._permissions()
        self.functions: dict[str, lambda_.Function] = {}
        self.live: dict[str, lambda_.IFunction] = {}  # what every trigger invokes (deployment.publish)
        self.queues: dict[str, tuple[sqs.Queue, sqs.Queue]] = {}
        for fn in deployment.invoked_functions(module):
            if fn.kind == "authorizer":
                continue  # the gateway's, in Foundation
            self.functions[fn.name] = self._function(fn)
            self.live[fn.name] = deployment.publish(
                self,
                f"{fn.name.title().replace('-', '')}Function",
                self.functions[fn.name],
                module=module.key,
                function=fn,
                settings=self.s,
            )
        deployment.module_alarm(self, module, self.s)
        self._api_permission()
        self._subscriptions()
        self._schedules()
        self._migrations()

    # -- configuration ------------------------------------------------------------------------
    def _environment(self) -> dict[str, str]:
        f, m = self.f, self.m
        env = {
            "FINFLOW_API_URL": f.api.url,
            "EVENT_BUS_NAME": f.bus.event_bus_name,
            "SERVICE_CREDENTIALS_PREFIX": f.service_credentials_prefix,
            "FINFLOW_DB_POOL_SIZE": "2",
            "FINFLOW_SERVICE": m.service,
            "KYC_AUTO_VERIFY": str(self.s.kyc_auto_verify).lower(),
            # the same allowed origins as the API's preflights (api.py), for the headers of its answers
            "CORS_ALLOWED_ORIGINS": runtime_settings().cors_allowed_origins,
        }
        if callees := calls.callees_of(m.key):
            # the private path: each module it calls, by the API function (live alias) it invokes
            env["FINFLOW_CALLEES"] = json.dumps({c: self._invoked_api(c) for c in callees}, separators=(",", ":"))
        if m.key in calls.callees():
            # invoked directly by other modules, whose events it must not trust: the principal comes
            # from the token, verified here, never from an authorizer context in the event
            env["FINFLOW_VERIFY_TOKENS"] = "true"
        if not self.s.aws:
            # no authorizer runs on LocalStack (api.py): each function checks tokens itself; and a
            # call that starts a cold container there takes seconds, not the 2 s allowed on AWS
            env |= {"FINFLOW_VERIFY_TOKENS": "true", "SERVICE_TIMEOUT_SECONDS": "10"}
        if m.key in f.db_secrets:
            env["DB_SECRET_ARN"] = f.db_secrets[m.key].secret_arn
        if m.key == "auth":
            env |= {
                "JWT_KEYS_SECRET_ID": f.jwt_keys.secret_arn,
                "SERVICE_CLIENTS_SECRET_ID": f.service_clients.secret_arn,
            }
        for store in m.stores:
            kind, _, name = store.partition(":")
            if kind == "documentdb" and f.data.documentdb_secret is not None:
                env["DOCUMENTDB_SECRET_ARN"] = f.data.documentdb_secret.secret_arn  # AWS: no password here
            elif kind == "documentdb" and f.data.documentdb_uri:
                env["DOCUMENTDB_URI"] = f.data.documentdb_uri
            if kind == "opensearch" and f.data.opensearch_endpoint:
                env |= {"OPENSEARCH_ENDPOINT": f.data.opensearch_endpoint, "OPENSEARCH_INDEX": name}
        return env

    def _invoked_api(self, module: str) -> str:
        """What another module's private call invokes: the API function's `live` alias on AWS,
        the function itself on LocalStack (deployment.publish), named by convention."""
        name = self.s.function_name(module, "api")
        return deployment.live_name(name) if self.s.aws else name

    def _invoke_permissions(self) -> None:
        """One grant per module this one calls: invoke that module's API function (as its
        alias on AWS), nothing else of it. The table of calls decides, the callee's routes
        check the service token."""
        for callee in calls.callees_of(self.m.key):
            self.role.add_to_principal_policy(
                iam.PolicyStatement(
                    sid=f"Invoke{callee.capitalize()}Api",
                    actions=["lambda:InvokeFunction"],
                    resources=[function_arn(self._invoked_api(callee))],
                )
            )

    def _read_secrets(self, *secrets: sm.ISecret) -> None:
        """Read these secrets (and decrypt them through Secrets Manager only). Written on the role,
        not on the key's policy, which lives in Foundation (a reference back would be a cycle)."""
        self.role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
                resources=[secret.secret_arn for secret in secrets],
            )
        )
        self.role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["kms:Decrypt"],
                resources=[self.f.key.key_arn],
                conditions={"StringEquals": {"kms:ViaService": f"secretsmanager.{cdk.Aws.REGION}.amazonaws.com"}},
            )
        )

    def _permissions(self) -> None:
        f, m, role = self.f, self.m, self.role
        owned: list[sm.ISecret] = [f.credentials[m.key], *([f.db_secrets[m.key]] if m.key in f.db_secrets else [])]
        if m.key == "auth":
            owned += [f.jwt_keys, f.service_clients]
        if f.data.documentdb_secret is not None and any(s.startswith("documentdb:") for s in m.stores):
            owned.append(f.data.documentdb_secret)  # the cluster's login, read at first use (store_mongo.py)
        self._read_secrets(*owned)
        self._invoke_permissions()
        if m.emits:
            role.add_to_principal_policy(
                iam.PolicyStatement(
                    actions=["events:PutEvents"],
                    resources=[f.bus.event_bus_arn],
                    conditions={"StringEquals": {"events:source": [m.source]}},
                )
            )
        for store in m.stores:
            kind, _, name = store.partition(":")
            if kind == "s3":
                self.bucket = self._bucket(name)
            if kind == "opensearch" and f.data.opensearch_domain_arn:
                role.add_to_principal_policy(
                    iam.PolicyStatement(
                        actions=["es:ESHttpGet", "es:ESHttpPost", "es:ESHttpPut", "es:ESHttpDelete", "es:ESHttpHead"],
                        resources=[f.data.opensearch_domain_arn, f"{f.data.opensearch_domain_arn}/{name}*"],
                    )
                )
                acknowledge(
                    role,
                    f"AwsSolutions-IAM5[Resource::{_nag_arn(f.data.opensearch_domain_arn)}/{name}*]",
                    f"the {name} indices (and their dated rollovers) of the reporting domain, nothing else",
                )
        if m.key in catalog.export_parts():
            self._export_permissions()
        if m.key == "notification":
            role.add_to_principal_policy(
                iam.PolicyStatement(
                    actions=["ses:SendEmail", "ses:SendRawEmail"],
                    resources=[f"arn:{cdk.Aws.PARTITION}:ses:{cdk.Aws.REGION}:{cdk.Aws.ACCOUNT_ID}:identity/*"],
                )
            )
            role.add_to_principal_policy(iam.PolicyStatement(actions=["sns:Publish"], resources=["*"]))
            acknowledge(
                role,
                "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ses:<AWS::Region>:<AWS::AccountId>:identity/*]",
                "SES checks the sender identity and each recipient identity in the sandbox; the recipients are users' addresses",
            )

    def _export_permissions(self) -> None:
        """Write this module's part of any user's export; Auth also lists and reads them (to sign links)."""
        arn = f"arn:{cdk.Aws.PARTITION}:s3:::{self.f.exports_bucket_name}"
        auth = self.m.key == "auth"
        objects = f"{arn}/exports/*" if auth else f"{arn}/exports/*/{self.m.key}.json"
        self.role.add_to_principal_policy(
            iam.PolicyStatement(
                # Auth also deletes a user's exports when the user is erased
                actions=["s3:PutObject"] + (["s3:GetObject", "s3:DeleteObject"] if auth else []),
                resources=[objects],
            )
        )
        if auth:
            self.role.add_to_principal_policy(iam.PolicyStatement(actions=["s3:ListBucket"], resources=[arn]))
        self.role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["kms:Encrypt", "kms:GenerateDataKey"] + (["kms:Decrypt"] if auth else []),
                resources=[self.f.key.key_arn],
                conditions={"StringEquals": {"kms:ViaService": f"s3.{cdk.Aws.REGION}.amazonaws.com"}},
            )
        )
        acknowledge(
            self.role,
            f"AwsSolutions-IAM5[Resource::{_nag_arn(objects)}]",
            "one object per export, named by its export id; this module writes only its own part",
        )
        self.env_vars["EXPORTS_BUCKET"] = self.f.exports_bucket_name

    def _function(self, fn: catalog.Function) -> lambda_.Function:
        handler = fn.handler if self.built else "deploy_runtime.not_built.handler"
        timeout = CONSUMER_TIMEOUT if fn.kind == "consumer" else 29 if fn.kind == "api" else 120
        return make_function(
            self,
            f"{fn.name.title().replace('-', '')}Function",
            FunctionSpec(
                name=self.s.function_name(self.m.key, fn.name),
                handler=handler,
                code=self.code,
                role=self.role,
                environment=self.env_vars,
                timeout_seconds=timeout,
                security_groups=[self.f.module_sgs[self.m.key]] if self.f.module_sgs else [],
            ),
            settings=self.s,
            layers=self.f.layers,
            vpc=self.f.vpc,
        )

    def _api_permission(self) -> None:
        api = self.f.api.api
        lambda_.CfnPermission(
            self,
            "ApiInvoke",
            action="lambda:InvokeFunction",
            principal="apigateway.amazonaws.com",
            function_name=self.live["api"].function_arn,  # the alias's (qualified) ARN
            source_arn=api.arn_for_execute_api(method="*", path="/*", stage="*"),
        )

    def _subscriptions(self) -> None:
        for sub in self.m.subscriptions:
            name = queue_name(self.s.prefix, self.m.key, sub.producer)
            dlq = sqs.Queue(
                self,
                f"From{sub.producer.capitalize()}Dlq",
                queue_name=f"{name}-dlq",
                enforce_ssl=True,
                encryption=sqs.QueueEncryption.KMS,
                encryption_master_key=self.f.key,
                retention_period=cdk.Duration.days(14),
            )
            queue = sqs.Queue(
                self,
                f"From{sub.producer.capitalize()}",
                queue_name=name,
                enforce_ssl=True,
                encryption=sqs.QueueEncryption.KMS,
                encryption_master_key=self.f.key,
                retention_period=cdk.Duration.days(14),
                visibility_timeout=cdk.Duration.seconds(6 * CONSUMER_TIMEOUT),
                dead_letter_queue=sqs.DeadLetterQueue(queue=dlq, max_receive_count=MAX_RECEIVE_COUNT),
            )
            acknowledge(dlq, "AwsSolutions-SQS3", "this queue is the dead-letter queue of its subscription")
            events.Rule(
                self,
                f"From{sub.producer.capitalize()}Rule",
                rule_name=name,
                event_bus=self.f.bus,
                description=f"{sub.producer} -> {self.m.key}: {', '.join(sub.detail_types)}",
                event_pattern=events.EventPattern(
                    source=[catalog.module(sub.producer).source], detail_type=list(sub.detail_types)
                ),
                targets=[targets.SqsQueue(queue)],
            )
            self.queues[sub.producer] = (queue, dlq)
            consumer = self.live.get("events")
            if consumer is not None:  # a module not in this build leaves its events queued (14 days)
                consumer.add_event_source(
                    sources.SqsEventSource(
                        queue,
                        batch_size=10,
                        max_batching_window=cdk.Duration.seconds(1),
                        report_batch_item_failures=True,
                    )
                )

    def _schedules(self) -> None:
        for fn in self.m.functions:
            if fn.kind == "schedule" and fn.name in self.functions:
                if fn.schedule_minutes is None:
                    raise ValueError(f"{self.m.key}/{fn.name}: a scheduled function needs schedule_minutes")
                events.Rule(
                    self,
                    f"{fn.name.title().replace('-', '')}Schedule",
                    rule_name=self.s.function_name(self.m.key, fn.name),
                    schedule=events.Schedule.rate(cdk.Duration.minutes(fn.schedule_minutes)),
                    targets=[targets.LambdaFunction(self.live[fn.name], retry_attempts=0)],
                )

    def _migrations(self) -> None:
        if self.m.key not in self.f.db_secrets or not (assets.ROOT / "functions" / self.m.key / "migrations").is_dir():
            return
        fn = make_function(
            self,
            "MigrateFunction",
            FunctionSpec(
                name=self.s.function_name(self.m.key, "migrate"),
                handler="deploy_runtime.migrate.handler",
                code=self.code,
                role=self.role,
                environment=self.env_vars,
                timeout_seconds=600,
                security_groups=[self.f.module_sgs[self.m.key]] if self.f.module_sgs else [],
            ),
            settings=self.s,
            layers=self.f.layers,
            vpc=self.f.vpc,
        )
        run = deploy_step(
            self,
            "Migrations",
            settings=self.s,
            fn=fn,
            resource_type="Custom::FinFlowMigrations",
            properties={"Module": self.m.key, "MigrationsHash": migrations_hash(self.m.key)},
        )
        for other in self.functions.values():  # nothing serves traffic on an old schema
            other.node.add_dependency(run)

    # -- storage -------------------------------------------------------------------------------
    def _bucket(self, name: str) -> s3.Bucket:
        logs_bucket = s3.Bucket(
            self,
            "AccessLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            lifecycle_rules=[s3.LifecycleRule(expiration=cdk.Duration.days(400))],
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        acknowledge(
            logs_bucket,
            "AwsSolutions-S1",
            "this is the access-log bucket of the documents bucket; logging it would recurse",
        )
        bucket = s3.Bucket(
            self,
            "Documents",
            bucket_name=f"{self.s.prefix}-{name}-{cdk.Aws.ACCOUNT_ID}-{cdk.Aws.REGION}",
            encryption=s3.BucketEncryption.KMS,
            encryption_key=self.f.key,
            bucket_key_enabled=True,
            enforce_ssl=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            versioned=True,
            server_access_logs_bucket=logs_bucket,
            server_access_logs_prefix=f"{name}/",
            cors=[s3.CorsRule(allowed_methods=[s3.HttpMethods.POST], allowed_origins=["*"], allowed_headers=["*"])],
            lifecycle_rules=[
                s3.LifecycleRule(id="abort-uploads", abort_incomplete_multipart_upload_after=cdk.Duration.days(1)),
                s3.LifecycleRule(
                    id="archive",
                    transitions=[
                        s3.Transition(
                            storage_class=s3.StorageClass.GLACIER_INSTANT_RETRIEVAL,
                            transition_after=cdk.Duration.days(90),
                        )
                    ],
                ),
                s3.LifecycleRule(id="old-versions", noncurrent_version_expiration=cdk.Duration.days(30)),
            ],
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        self.role.add_to_principal_policy(
            iam.PolicyStatement(
                # delete, every version included: a user's erasure removes their documents (functions/kyc/erasure.py)
                actions=[
                    "s3:PutObject",
                    "s3:GetObject",
                    "s3:GetObjectAttributes",
                    "s3:DeleteObject",
                    "s3:DeleteObjectVersion",
                ],
                resources=[bucket.arn_for_objects("*")],
            )
        )
        self.role.add_to_principal_policy(
            iam.PolicyStatement(actions=["s3:ListBucket", "s3:ListBucketVersions"], resources=[bucket.bucket_arn])
        )
        self.role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"],
                resources=[self.f.key.key_arn],
                conditions={"StringEquals": {"kms:ViaService": f"s3.{cdk.Aws.REGION}.amazonaws.com"}},
            )
        )
        acknowledge(
            self.role,
            f"AwsSolutions-IAM5[Resource::<{self.get_logical_id(default_child(bucket, s3.CfnBucket))}.Arn>/*]",
            "KYC documents are objects keyed per user and submission; the module reads and writes only this bucket's objects",
        )
        self.env_vars["KYC_DOCUMENTS_BUCKET"] = bucket.bucket_name
        return bucket
