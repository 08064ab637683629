"""Foundation: network, key, bus, data stores, secrets, layers and the API (every module needs them)."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as sm
from constructs import Construct

from functions import catalog
from infra_cdk import assets, deployment
from infra_cdk.api import FinFlowApi
from infra_cdk.data import DataStores, aws_data_stores, module_db_secret
from infra_cdk.deploy_steps import deploy_step
from infra_cdk.lambdas import FunctionSpec, architecture, lambda_role, make_function
from infra_cdk.localstack import api_host, parameter_data_stores
from infra_cdk.nag import acknowledge
from infra_cdk.settings import DeploySettings
from infra_cdk.waf import nat_addresses

VPC_CIDR = "10.40.0.0/16"


def postgres_modules(settings: DeploySettings) -> list[str]:
    """Modules with a database of their own on the PostgreSQL server: Aurora's owners, and where
    there is no DocumentDB (LocalStack), its owners too, on their PostgreSQL adapter."""
    kinds = ("aurora:",) if settings.aws else ("aurora:", "documentdb:")
    return [m.key for m in catalog.MODULES if any(s.startswith(kinds) for s in m.stores)]


class FoundationStack(cdk.Stack):
    def __init__(self, scope: Construct, id: str, *, settings: DeploySettings, **kwargs) -> None:
        super().__init__(
            scope, id, description="FinFlow foundation: network, key, bus, data stores, secrets, layers, API", **kwargs
        )
        self.settings = settings
        self.key = kms.Key(
            self,
            "Key",
            alias=f"alias/{settings.prefix}",
            enable_key_rotation=True,
            description="FinFlow: secrets, queues, buckets, databases",
        )
        # EventBridge delivers to KMS-encrypted queues only if the key lets it.
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal("events.amazonaws.com")],
                actions=["kms:GenerateDataKey", "kms:Decrypt"],
                resources=["*"],
                conditions={"StringEquals": {"aws:SourceAccount": cdk.Aws.ACCOUNT_ID}},
            )
        )
        self.vpc = self._network() if settings.aws else None
        self.bus = events.EventBus(self, "Bus", event_bus_name=settings.prefix)
        self.bus.archive(
            "Archive",
            archive_name=f"{settings.prefix}-all",
            retention=cdk.Duration.days(365),
            description="every FinFlow event, for replay",
            event_pattern=events.EventPattern(source=[m.source for m in catalog.MODULES]),
        )
        self._secrets()
        self.exports_bucket_name = self._exports_bucket()
        # LocalStack's community edition does not apply layers: there `code()` carries their contents
        self.layers: list[lambda_.ILayerVersion] = (
            []
            if not settings.aws
            else [
                lambda_.LayerVersion(
                    self,
                    "CommonLayer",
                    code=lambda_.Code.from_asset(str(assets.common_layer()), exclude=["**/__pycache__"]),
                    compatible_runtimes=[lambda_.Runtime.PYTHON_3_13],
                    description="finflow: FinFlow's shared library",
                ),
                lambda_.LayerVersion(
                    self,
                    "DepsLayer",
                    code=lambda_.Code.from_asset(str(assets.deps_layer(architecture(settings).name))),
                    compatible_runtimes=[lambda_.Runtime.PYTHON_3_13],
                    compatible_architectures=[architecture(settings)],
                    description="FinFlow's third-party packages",
                ),
            ]
        )
        self.admin_sg = (
            ec2.SecurityGroup(self, "AdminSg", vpc=self.vpc, description="database setup and secret rotation")
            if self.vpc
            else None
        )
        self.data: DataStores
        if settings.aws:
            vpc, admin_sg = self._aws_network()
            self.data = aws_data_stores(self, settings, vpc, self.key, admin_sg, list(self.db_secrets.values()))
        else:
            self.data = parameter_data_stores(self, settings, self.key)
        self._database_setup()
        self._seed_secrets()
        # the catalog's authorizer function (Auth's code) guards the gateway, so it deploys with it
        owner, spec = next((m, fn) for m in catalog.MODULES for fn in m.functions if fn.kind == "authorizer")
        authorizer = self._function(
            "Authorizer",
            settings.function_name(owner.key, spec.name),
            spec.handler,
            self.code(owner.key),
            in_vpc=False,
            environment={"JWKS_CACHE_SECONDS": "300"},
        )
        live = deployment.publish(self, "Authorizer", authorizer, module=owner.key, function=spec, settings=settings)
        self.api = FinFlowApi(
            self,
            "Gateway",
            settings=settings,
            authorizer_fn=live,
            localstack_host=None if settings.aws else api_host(self),
            service_addresses=nat_addresses(self.vpc),
        )
        authorizer.add_environment("FINFLOW_API_URL", self.api.url)
        self.module_sgs = {m.key: self._module_sg(m, self.vpc) for m in catalog.MODULES} if self.vpc else {}
        cdk.CfnOutput(self, "ApiUrl", value=self.api.url, description="FinFlow's API (every /api route)")

    # -- network -------------------------------------------------------------------------------
    def _network(self) -> ec2.Vpc:
        vpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr(VPC_CIDR),
            max_azs=2,
            nat_gateways=1,
            subnet_configuration=[
                ec2.SubnetConfiguration(name="public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24),
                ec2.SubnetConfiguration(name="functions", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, cidr_mask=22),
                ec2.SubnetConfiguration(name="data", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=24),
            ],
        )
        flow_logs = logs.LogGroup(self, "FlowLogs", retention=logs.RetentionDays.ONE_YEAR)
        vpc.add_flow_log("FlowLog", destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_logs))
        vpc.add_gateway_endpoint("S3", service=ec2.GatewayVpcEndpointAwsService.S3)
        endpoints_sg = ec2.SecurityGroup(
            self,
            "EndpointsSg",
            vpc=vpc,
            allow_all_outbound=False,
            description="AWS service endpoints: HTTPS from inside the VPC",
        )
        endpoints_sg.add_ingress_rule(ec2.Peer.ipv4(VPC_CIDR), ec2.Port.tcp(443), "HTTPS from the VPC")
        for name, service in (
            ("SecretsManager", ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER),
            ("Events", ec2.InterfaceVpcEndpointAwsService.EVENTBRIDGE),
            ("Kms", ec2.InterfaceVpcEndpointAwsService.KMS),
            ("Sns", ec2.InterfaceVpcEndpointAwsService.SNS),
            ("Ses", ec2.InterfaceVpcEndpointAwsService.EMAIL),
        ):
            vpc.add_interface_endpoint(
                name,
                service=service,
                private_dns_enabled=True,
                open=False,
                security_groups=[endpoints_sg],
                subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
            )
        return vpc

    def _aws_network(self) -> tuple[ec2.Vpc, ec2.SecurityGroup]:
        """The VPC and the database setup's and rotation's security group: the AWS target's only."""
        if self.vpc is None or self.admin_sg is None:
            raise ValueError("only the AWS target has a VPC")
        return self.vpc, self.admin_sg

    def _module_sg(self, m: catalog.Module, vpc: ec2.IVpc) -> ec2.SecurityGroup:
        """A module's functions: outbound anywhere (the API, AWS endpoints); inbound to the stores it owns only."""
        sg = ec2.SecurityGroup(
            self,
            f"{m.key.capitalize()}FunctionsSg",
            vpc=vpc,
            allow_all_outbound=True,
            description=f"FinFlow {m.key} functions",
        )
        for store in m.stores:
            kind = store.split(":")[0]
            if kind in self.data.network:
                target, port = self.data.network[kind]
                target.connections.allow_from(sg, ec2.Port.tcp(port), f"{m.key} functions")
        return sg

    # -- secrets -------------------------------------------------------------------------------
    def _secret(self, id: str, name: str, description: str) -> sm.Secret:
        return sm.Secret(self, id, secret_name=name, description=description, encryption_key=self.key)

    def _exports_bucket(self) -> str:
        """Users' data exports, one object per module (finflow.exports); kept a week, never public.
        Named from pseudo parameters, so module roles name it without a cross-stack reference."""
        name = f"{self.settings.prefix}-user-exports-{cdk.Aws.ACCOUNT_ID}-{cdk.Aws.REGION}"
        bucket = s3.Bucket(
            self,
            "Exports",
            bucket_name=name,
            encryption=s3.BucketEncryption.KMS,
            encryption_key=self.key,
            bucket_key_enabled=True,
            enforce_ssl=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            lifecycle_rules=[s3.LifecycleRule(id="expire-exports", expiration=cdk.Duration.days(7))],
            removal_policy=cdk.RemovalPolicy.DESTROY,
            auto_delete_objects=False,
        )
        acknowledge(
            bucket,
            "AwsSolutions-S1",
            "exports are short-lived copies a user downloads through links Auth "
            "signs; Auth's API calls are the audit trail, not access logs",
        )
        return name

    def _secrets(self) -> None:
        s = self.settings
        self.db_secrets = {key: module_db_secret(self, s, self.key, key) for key in postgres_modules(s)}
        self.jwt_keys = self._secret("JwtKeys", s.secret_name("auth", "jwt-keys"), "Auth's JWT signing key ring")
        self.service_clients = self._secret(
            "ServiceClients",
            s.secret_name("auth", "service-clients"),
            "Auth's registry of service clients (SHA-256 of each secret)",
        )
        self.credentials = {
            m.key: self._secret(
                f"{m.key.capitalize()}Credentials",
                s.secret_name("service-credentials", m.key),
                f"{m.key}'s OAuth2 client credentials",
            )
            for m in catalog.MODULES
        }
        reason = (
            "written by the Foundation seeder, which rotates the signing key ring and every module's client "
            "secret together with Auth's registry when the secrets_generation context changes; single-secret "
            "rotation would break the ring or the registry"
        )
        for secret in (self.jwt_keys, self.service_clients, *self.credentials.values()):
            acknowledge(secret, "AwsSolutions-SMG4", reason)

    @property
    def service_credentials_prefix(self) -> str:
        return self.settings.secret_name("service-credentials")

    def code(self, key: str) -> lambda_.Code:
        """A module's function code (key "foundation": the deploy-time handlers alone); with the
        layers' contents on targets that do not apply layers."""
        return lambda_.Code.from_asset(str(assets.module_code(key) if self.layers else assets.bundled_code(key)))

    def _function(
        self,
        id: str,
        name: str,
        handler: str,
        code: lambda_.Code,
        *,
        in_vpc: bool,
        environment: dict | None = None,
        timeout: int = 29,
        security_groups=None,
    ) -> lambda_.Function:
        role = lambda_role(self, f"{id}Role", f"FinFlow {name}")
        fn = make_function(
            self,
            id,
            FunctionSpec(
                name=name,
                handler=handler,
                code=code,
                role=role,
                environment=environment or {},
                in_vpc=in_vpc,
                timeout_seconds=timeout,
                security_groups=security_groups or [],
            ),
            settings=self.settings,
            layers=self.layers,
            vpc=self.vpc,
        )
        self.tracing_and_vpc_acknowledgements(role, in_vpc)
        return fn

    def tracing_and_vpc_acknowledgements(self, role: iam.Role, in_vpc: bool, also: tuple[str, ...] = ()) -> None:
        """Acknowledge what every function role needs beyond its own resources (and `also`, a module's own)."""
        star = list(also)
        if self.settings.aws:
            star.append("X-Ray's PutTraceSegments/PutTelemetryRecords accept no resource narrower than *")
        if self.vpc is not None and in_vpc:
            star.append("a VPC function's network-interface actions accept no resource narrower than *")
            acknowledge(
                role,
                "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]",
                "AWS's own minimal policy for a VPC function's network interfaces",
            )
        if star:
            acknowledge(role, "AwsSolutions-IAM5[Resource::*]", "; ".join(star))

    def _database_setup(self) -> None:
        """One role and database per Aurora-owning module, and the proxy's address in each module secret."""
        fn = self._function(
            "DatabaseSetup",
            self.settings.function_name("foundation", "db-setup"),
            "deploy_runtime.db_setup.handler",
            self.code("foundation"),
            in_vpc=True,
            timeout=300,
            security_groups=[self.admin_sg] if self.admin_sg else None,
        )
        self.data.master_secret.grant_read(fn)
        for secret in self.db_secrets.values():
            secret.grant_read(fn)
            secret.grant_write(fn)
        self.db_setup = deploy_step(
            self,
            "DatabaseSetupRun",
            settings=self.settings,
            fn=fn,
            resource_type="Custom::FinFlowDatabases",
            properties={
                "MasterSecretArn": self.data.master_secret.secret_arn,
                "ModuleSecretArns": {k: s.secret_arn for k, s in self.db_secrets.items()},
                "Host": self.data.db_host,
                "Port": str(self.data.db_port),
            },
        )
        if self.data.proxy is not None:
            self.db_setup.node.add_dependency(self.data.proxy)
        if self.settings.aws:  # rotation only once the role exists in the database
            vpc, admin_sg = self._aws_network()
            for secret in self.db_secrets.values():
                self.data.rotate(
                    secret,
                    sm.HostedRotation.postgre_sql_single_user(
                        vpc=vpc,
                        vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
                        security_groups=[admin_sg],
                    ),
                )
                secret.node.find_child("Rotation").node.add_dependency(self.db_setup)
        else:
            for secret in self.db_secrets.values():
                acknowledge(
                    secret, "AwsSolutions-SMG4", "LocalStack: the login of a throwaway local PostgreSQL; rotated on AWS"
                )
            acknowledge(
                self.data.master_secret,
                "AwsSolutions-SMG4",
                "LocalStack: the admin login of a throwaway local PostgreSQL given as a parameter",
            )

    def _seed_secrets(self) -> None:
        fn = self._function(
            "SecretsSeeder",
            self.settings.function_name("foundation", "secrets-seeder"),
            "deploy_runtime.seed_secrets.handler",
            self.code("foundation"),
            in_vpc=True,
            timeout=120,
            security_groups=[self.admin_sg] if self.admin_sg else None,
        )
        for secret in (self.jwt_keys, self.service_clients, *self.credentials.values()):
            secret.grant_read(fn)
            secret.grant_write(fn)
        deploy_step(
            self,
            "SecretsSeed",
            settings=self.settings,
            fn=fn,
            resource_type="Custom::FinFlowSecrets",
            properties={
                "Generation": self.settings.secrets_generation,
                "JwtKeysSecretArn": self.jwt_keys.secret_arn,
                "ServiceClientsSecretArn": self.service_clients.secret_arn,
                "CredentialSecretArns": {k: s.secret_arn for k, s in self.credentials.items()},
            },
        )
