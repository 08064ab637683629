"""Users' data exports: one private, encrypted, expiring bucket in Foundation; each module
writing a part may write only its own part, and only Auth lists, reads and deletes them."""

from __future__ import annotations

import json

import pytest

from functions import catalog
from infra_cdk.app import stack_id
from tests.infra.test_infra_iam import as_list, statements

EXPORTERS = ["auth", *catalog.subscribers("auth", "UserExportRequested")]


def test_the_exports_bucket_is_private_encrypted_and_expires_its_objects(aws):
    (bucket,) = [
        r
        for r in aws.resources(stack_id("foundation"), "AWS::S3::Bucket").values()
        if "user-exports" in json.dumps(r["Properties"].get("BucketName", ""))
    ]
    props = bucket["Properties"]
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    sse = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    assert sse["SSEAlgorithm"] == "aws:kms"
    assert [r["ExpirationInDays"] for r in props["LifecycleConfiguration"]["Rules"]] == [7]


def _export_grants(aws, key: str) -> dict[str, set[str]]:
    grants: dict[str, set[str]] = {}
    for st in statements(aws, stack_id(key)):
        for resource in as_list(st["Resource"]):
            text = json.dumps(resource)
            if "user-exports" in text:
                path = text.split("user-exports", 1)[1]
                grants.setdefault(path, set()).update(as_list(st["Action"]))
    return grants


@pytest.mark.parametrize("key", [m.key for m in catalog.MODULES])
def test_a_module_writes_only_its_own_part(aws, key):
    grants = _export_grants(aws, key)
    if key not in EXPORTERS:
        assert grants == {}
    elif key == "auth":
        assert {tuple(sorted(a)) for a in grants.values()} == {
            ("s3:DeleteObject", "s3:GetObject", "s3:PutObject"),
            ("s3:ListBucket",),
        }
    else:
        ((path, actions),) = grants.items()
        assert f"/exports/*/{key}.json" in path and actions == {"s3:PutObject"}, (path, actions)
