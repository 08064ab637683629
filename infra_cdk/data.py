"""The data stores on AWS: Aurora PostgreSQL Serverless v2 behind RDS Proxy, DocumentDB and
OpenSearch, all in isolated subnets, encrypted with the Foundation key.

LocalStack's community edition has none of them: `localstack.py` gives the same
`DataStores` from parameters instead.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import aws_cdk as cdk
from aws_cdk import aws_docdb as docdb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_opensearchservice as opensearch
from aws_cdk import aws_rds as rds
from aws_cdk import aws_secretsmanager as sm
from constructs import Construct

from infra_cdk.children import default_child
from infra_cdk.nag import acknowledge
from infra_cdk.settings import DeploySettings

ISOLATED = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
PROXY_PORT = 5432  # RDS Proxy always listens on the engine's default port
AURORA_PORT = 5433  # the cluster itself does not (AwsSolutions-RDS11)
DOCDB_PORT = 27018


@dataclass
class DataStores:
    master_secret: sm.ISecret  # {host, port, username, password, dbname}: creates module roles and databases
    db_host: str  # what module secrets point at (the proxy on AWS)
    db_port: int | str  # LocalStack: the stack parameter's token
    documentdb_uri: str | None = None  # a plain URI (LocalStack's parameter); never one with a password in AWS
    # AWS: the DocumentDB cluster's secret (host, port, username, password), which Notification reads at first use
    documentdb_secret: sm.ISecret | None = None
    opensearch_endpoint: str | None = None
    opensearch_domain_arn: str | None = None
    # store kind ("aurora", "documentdb", "opensearch") -> (connectable, port) a module's functions may reach
    network: dict[str, tuple[ec2.IConnectable, int]] = field(default_factory=dict)
    proxy: rds.DatabaseProxy | None = None

    def rotate(self, secret: sm.ISecret, hosted: sm.HostedRotation) -> None:
        secret.add_rotation_schedule("Rotation", hosted_rotation=hosted, automatically_after=cdk.Duration.days(30))


def aws_data_stores(
    scope: Construct,
    settings: DeploySettings,
    vpc: ec2.IVpc,
    key: kms.IKey,
    rotation_sg: ec2.SecurityGroup,
    module_secrets: list[sm.ISecret],
) -> DataStores:
    """`rotation_sg`: the database setup and secret rotation functions; `module_secrets`: the
    logins RDS Proxy accepts besides the master."""
    aurora_sg = ec2.SecurityGroup(
        scope,
        "AuroraSg",
        vpc=vpc,
        description="Aurora cluster: the proxy and the setup/rotation functions only",
        allow_all_outbound=False,
    )
    proxy_sg = ec2.SecurityGroup(
        scope,
        "ProxySg",
        vpc=vpc,
        description="RDS Proxy: reachable from Aurora-owning modules",
        allow_all_outbound=True,
    )
    master = rds.DatabaseSecret(
        scope,
        "AuroraMasterSecret",
        username="finflow_admin",
        encryption_key=key,
        secret_name=settings.secret_name("aurora", "master"),
    )
    cluster = rds.DatabaseCluster(
        scope,
        "Aurora",
        engine=rds.DatabaseClusterEngine.aurora_postgres(version=rds.AuroraPostgresEngineVersion.VER_16_9),
        credentials=rds.Credentials.from_secret(master),
        default_database_name="postgres",
        writer=rds.ClusterInstance.serverless_v2("Writer"),
        readers=[rds.ClusterInstance.serverless_v2("Reader", scale_with_writer=True)],
        serverless_v2_min_capacity=0.5,
        serverless_v2_max_capacity=8,
        vpc=vpc,
        vpc_subnets=ISOLATED,
        security_groups=[aurora_sg],
        port=AURORA_PORT,
        storage_encrypted=True,
        storage_encryption_key=key,
        iam_authentication=True,
        deletion_protection=True,
        backup=rds.BackupProps(retention=cdk.Duration.days(14)),
        cloudwatch_logs_exports=["postgresql"],
        cloudwatch_logs_retention=None,
        removal_policy=cdk.RemovalPolicy.SNAPSHOT,
    )
    aurora_sg.add_ingress_rule(proxy_sg, ec2.Port.tcp(AURORA_PORT), "RDS Proxy")
    aurora_sg.add_ingress_rule(rotation_sg, ec2.Port.tcp(AURORA_PORT), "database setup and secret rotation")
    stores = DataStores(master_secret=master, db_host="", db_port=PROXY_PORT)
    stores.rotate(
        master, sm.HostedRotation.postgre_sql_single_user(vpc=vpc, vpc_subnets=ISOLATED, security_groups=[rotation_sg])
    )
    stores.proxy = rds.DatabaseProxy(
        scope,
        "AuroraProxy",
        proxy_target=rds.ProxyTarget.from_cluster(cluster),
        secrets=[master, *module_secrets],
        vpc=vpc,
        vpc_subnets=ISOLATED,
        security_groups=[proxy_sg],
        require_tls=True,
        iam_auth=False,
        db_proxy_name=f"{settings.prefix}-aurora",
    )
    proxy_sg.add_ingress_rule(rotation_sg, ec2.Port.tcp(PROXY_PORT), "secret rotation through the proxy")
    stores.db_host = stores.proxy.endpoint
    stores.network["aurora"] = (proxy_sg, PROXY_PORT)

    # DocumentDB (Notification). Its functions get the cluster's secret, DOCUMENTDB_SECRET_ARN, and
    # build the connection from it at first use: no password in their environment (docs/decisions.md).
    docdb_sg = ec2.SecurityGroup(
        scope,
        "DocDbSg",
        vpc=vpc,
        description="DocumentDB: reachable from the document store owner only",
        allow_all_outbound=False,
    )
    docdb_sg.add_ingress_rule(rotation_sg, ec2.Port.tcp(DOCDB_PORT), "secret rotation")
    params = docdb.ClusterParameterGroup(
        scope,
        "DocDbParams",
        family="docdb5.0",
        parameters={"tls": "enabled", "audit_logs": "all"},
        description="FinFlow DocumentDB: TLS and audit logs",
    )
    docdb_secret = docdb.DatabaseSecret(
        scope,
        "DocumentDbSecret",
        username="finflow",
        encryption_key=key,
        secret_name=settings.secret_name("documentdb", "master"),
    )
    documents = docdb.DatabaseCluster(
        scope,
        "DocumentDb",
        master_user=docdb.Login(username="finflow", password=docdb_secret.secret_value_from_json("password")),
        engine_version="5.0.0",
        instance_type=ec2.InstanceType.of(ec2.InstanceClass.T4G, ec2.InstanceSize.MEDIUM),
        instances=1,
        vpc=vpc,
        vpc_subnets=ISOLATED,
        security_group=docdb_sg,
        port=DOCDB_PORT,
        kms_key=key,
        storage_encrypted=True,
        deletion_protection=True,
        parameter_group=params,
        backup=docdb.BackupProps(retention=cdk.Duration.days(14)),
        export_audit_logs_to_cloud_watch=True,
        export_profiler_logs_to_cloud_watch=True,
        removal_policy=cdk.RemovalPolicy.SNAPSHOT,
    )
    # Login and password as dynamic references by the secret's (fixed) name: cdk-nag's DOC3 can
    # only read a literal, and the cluster must not wait on the attachment that waits on it.
    cfn_cluster = default_child(documents, docdb.CfnDBCluster)
    secret_name = settings.secret_name("documentdb", "master")
    cfn_cluster.master_username = f"{{{{resolve:secretsmanager:{secret_name}:SecretString:username}}}}"
    cfn_cluster.master_user_password = f"{{{{resolve:secretsmanager:{secret_name}:SecretString:password}}}}"
    cfn_cluster.add_resource_dependency(default_child(docdb_secret, sm.CfnSecret))
    attached = docdb_secret.attach(documents)
    stores.rotate(
        attached, sm.HostedRotation.mongo_db_single_user(vpc=vpc, vpc_subnets=ISOLATED, security_groups=[rotation_sg])
    )
    for category in ("authenticate", "createIndex", "dropCollection"):
        acknowledge(
            documents,
            f"AwsSolutions-DOC5[LogExport::{category}]",
            f"DocumentDB exports only the 'audit' and 'profiler' logs; {category} is an audit event category, "
            "enabled by the parameter audit_logs=all and exported with 'audit'",
        )
    stores.documentdb_secret = attached  # its ARN: the secret once it carries the cluster's host and port
    stores.network["documentdb"] = (docdb_sg, DOCDB_PORT)

    # OpenSearch (Reporting's search index): IAM-authorised, the account's roles decide who may query.
    search_sg = ec2.SecurityGroup(
        scope,
        "OpenSearchSg",
        vpc=vpc,
        description="OpenSearch: reachable from the search index owner only",
        allow_all_outbound=False,
    )
    slow_logs = logs.LogGroup(scope, "OpenSearchLogs", retention=logs.RetentionDays.ONE_YEAR)
    logs.ResourcePolicy(
        scope,
        "OpenSearchLogsPolicy",
        policy_statements=[
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal("es.amazonaws.com")],
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[slow_logs.log_group_arn],
            )
        ],
    )
    domain_name = f"{settings.prefix}-search"
    domain_arn = f"arn:{cdk.Aws.PARTITION}:es:{cdk.Aws.REGION}:{cdk.Aws.ACCOUNT_ID}:domain/{domain_name}"
    domain = opensearch.Domain(
        scope,
        "OpenSearch",
        domain_name=domain_name,
        version=opensearch.EngineVersion.OPENSEARCH_2_19,
        vpc=vpc,
        vpc_subnets=[ISOLATED],
        security_groups=[search_sg],
        capacity=opensearch.CapacityConfig(
            data_nodes=2,
            data_node_instance_type="m6g.large.search",
            master_nodes=3,
            master_node_instance_type="m6g.large.search",
            multi_az_with_standby_enabled=False,
        ),
        zone_awareness=opensearch.ZoneAwarenessConfig(enabled=True, availability_zone_count=2),
        ebs=opensearch.EbsOptions(volume_size=20),
        encryption_at_rest=opensearch.EncryptionAtRestOptions(enabled=True, kms_key=key),
        node_to_node_encryption=True,
        enforce_https=True,
        tls_security_policy=opensearch.TLSSecurityPolicy.TLS_1_2,
        logging=opensearch.LoggingOptions(
            slow_search_log_enabled=True,
            slow_search_log_group=slow_logs,
            slow_index_log_enabled=True,
            slow_index_log_group=slow_logs,
            app_log_enabled=True,
            app_log_group=slow_logs,
        ),
        suppress_logs_resource_policy=True,
        removal_policy=cdk.RemovalPolicy.RETAIN,
    )
    # On the domain itself (the L2's access_policies would add a custom-resource Lambda): the
    # account's IAM policies decide who may query; no anonymous access.
    default_child(domain, opensearch.CfnDomain).access_policies = iam.PolicyDocument(
        statements=[
            iam.PolicyStatement(
                principals=[iam.AccountRootPrincipal()], actions=["es:ESHttp*"], resources=[f"{domain_arn}/*"]
            )
        ]
    ).to_json()
    stores.opensearch_endpoint = f"https://{domain.domain_endpoint}"
    stores.opensearch_domain_arn = domain_arn  # by name: no export, a stable IAM resource
    stores.network["opensearch"] = (search_sg, 443)
    acknowledge(
        domain,
        "AwsSolutions-OS3",
        "VPC-only domain: the security group admits the index owner's functions, IAM signs every request; no IP allow-list applies",
    )
    return stores


def module_db_secret(scope: Construct, settings: DeploySettings, key_: kms.IKey, module: str) -> sm.Secret:
    """A module's own login. Foundation's database setup adds `host` and `port` once the
    proxy exists (the proxy needs the secret first) and creates the role with this password."""
    template = json.dumps({"username": f"{module}_svc", "dbname": module, "engine": "postgres"})
    return sm.Secret(
        scope,
        f"{module.capitalize()}DbSecret",
        secret_name=settings.secret_name(module, "db"),
        description=f"FinFlow {module}: login to its own database",
        encryption_key=key_,
        generate_secret_string=sm.SecretStringGenerator(
            secret_string_template=template,
            generate_string_key="password",
            exclude_punctuation=True,
            password_length=40,
        ),
    )
