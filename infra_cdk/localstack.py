"""`-c target=localstack`: LocalStack's community edition has no Aurora, DocumentDB,
OpenSearch or X-Ray. The stores become endpoints given as stack parameters (a PostgreSQL
server, a MongoDB, optionally an OpenSearch), tracing is off, and the functions run
outside a VPC. Everything else (bus, queues, rules, functions, API, secrets, KMS, S3,
alarms) is deployed exactly as on AWS.

    cdklocal deploy --all -c target=localstack \\
      --parameters FinFlow-Foundation:PostgresHost=host.docker.internal ...
"""

from __future__ import annotations

import json

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from aws_cdk import aws_secretsmanager as sm
from constructs import Construct

from infra_cdk.data import DataStores
from infra_cdk.settings import DeploySettings

# parameter -> (default, description); defaults fit `make dev`'s embedded PostgreSQL seen from a container
PARAMETERS = {
    "PostgresHost": ("host.docker.internal", "PostgreSQL server reachable from LocalStack's Lambda containers"),
    "PostgresPort": ("5432", "its port"),
    "PostgresUser": ("postgres", "a role allowed to create roles and databases"),
    "DocumentDbUri": ("", "MongoDB URI for Notification's document store (empty: Notification cannot start)"),
    "OpenSearchEndpoint": ("", "OpenSearch URL for Reporting (empty: Reporting searches PostgreSQL)"),
}


def parameter_data_stores(scope: Construct, settings: DeploySettings, key: kms.IKey) -> DataStores:
    values = {
        name: cdk.CfnParameter(scope, name, type="String", default=default, description=text).value_as_string
        for name, (default, text) in PARAMETERS.items()
    }
    password = cdk.CfnParameter(
        scope,
        "PostgresPassword",
        type="String",
        no_echo=True,
        default="postgres",
        description="password of PostgresUser",
    )
    master = sm.Secret(
        scope,
        "PostgresMasterSecret",
        secret_name=settings.secret_name("postgres", "master"),
        description="FinFlow (LocalStack): the external PostgreSQL server's admin login",
        encryption_key=key,
        secret_string_value=cdk.SecretValue.unsafe_plain_text(
            cdk.Fn.sub(
                json.dumps(
                    {
                        "host": "${PostgresHost}",
                        "port": "${PostgresPort}",
                        "username": "${PostgresUser}",
                        "password": "${PostgresPassword}",
                        "dbname": "postgres",
                    }
                )
            )
        ),
    )
    master.node.add_dependency(password)
    return DataStores(
        master_secret=master,
        db_host=values["PostgresHost"],
        db_port=values["PostgresPort"],
        documentdb_uri=values["DocumentDbUri"],
        opensearch_endpoint=values["OpenSearchEndpoint"],
    )


def api_host(scope: Construct) -> str:
    """The host LocalStack's API answers on, seen from its Lambda containers and the deployer alike."""
    return cdk.CfnParameter(
        scope,
        "LocalStackHost",
        type="String",
        default="localhost.localstack.cloud",
        description="LocalStack's host for its Lambda containers and the deployer "
        "(127.0.0.1 when the containers share the host's network)",
    ).value_as_string
