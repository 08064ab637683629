"""KYC documents in S3 (bucket settings().kyc_documents_bucket): presigned uploads, the
existence check at submission and short-lived download links for compliance."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError

from finflow.aws import client
from finflow.config import settings

MAX_BYTES = 10 * 1024 * 1024
UPLOAD_EXPIRES_SECONDS = 900
DOWNLOAD_EXPIRES_SECONDS = 300


def _bucket() -> str:
    return settings().kyc_documents_bucket


def presign_upload(key: str, content_type: str) -> dict:
    """A presigned POST that accepts exactly this key and content type, 1 byte to 10 MiB."""
    return client("s3").generate_presigned_post(
        Bucket=_bucket(),
        Key=key,
        Fields={"Content-Type": content_type},
        Conditions=[{"Content-Type": content_type}, ["content-length-range", 1, MAX_BYTES]],
        ExpiresIn=UPLOAD_EXPIRES_SECONDS,
    )


class DocumentsUnavailable(Exception):
    """S3 gave no usable answer (network, credentials, throttling)."""


def exists(key: str) -> bool:
    try:
        client("s3").head_object(Bucket=_bucket(), Key=key)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return False
        raise DocumentsUnavailable(str(exc)) from exc
    except BotoCoreError as exc:
        raise DocumentsUnavailable(str(exc)) from exc
    return True


def download_url(key: str) -> str:
    return client("s3").generate_presigned_url(
        "get_object", Params={"Bucket": _bucket(), "Key": key}, ExpiresIn=DOWNLOAD_EXPIRES_SECONDS
    )


def bucket_check() -> None:
    """For /health: raises when the bucket cannot be reached."""
    client("s3").head_bucket(Bucket=_bucket())


def delete_user_documents(user_id: str) -> int:
    """Every version of every object under the user's upload prefix (submitted or not): the
    bucket is versioned, and a plain delete would only hide the document. Repeating is a no-op."""
    s3, deleted = client("s3"), 0
    try:
        pages = s3.get_paginator("list_object_versions").paginate(Bucket=_bucket(), Prefix=f"users/{user_id}/")
        for page in pages:
            found = page.get("Versions", []) + page.get("DeleteMarkers", [])
            objects = [{"Key": v["Key"], "VersionId": v["VersionId"]} for v in found]
            if objects:
                s3.delete_objects(Bucket=_bucket(), Delete={"Objects": objects, "Quiet": True})
                deleted += len(objects)
    except (ClientError, BotoCoreError) as exc:
        raise DocumentsUnavailable(str(exc)) from exc
    return deleted
