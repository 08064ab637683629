"""A user's data export (GDPR Art. 15 and 20), assembled in S3 from every module's part.

Auth records the request and emits UserExportRequested; each module holding data about the
user writes its part, `exports/<export_id>/<module>.json`, from its own owner-facing reads
(what the user sees through that module's API, nothing less). Writing a part again
replaces it with the same content, so a redelivered event is harmless. Auth answers which
parts are ready and hands the owner short-lived download links. Parts expire with the
bucket's lifecycle rule (infra_cdk: 7 days).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from finflow.aws import client
from finflow.config import settings

if TYPE_CHECKING:
    from finflow.events import Event
    from finflow.problems import Principal

DOWNLOAD_EXPIRES_SECONDS = 300


class ExportsUnavailable(Exception):
    """S3 gave no usable answer (network, credentials, throttling)."""


def _s3_errors():
    from botocore.exceptions import BotoCoreError, ClientError

    return BotoCoreError, ClientError


def _key(export_id: str, module: str) -> str:
    return f"exports/{export_id}/{module}.json"


def write_part(export_id: str, user_id: str, module: str, data: Any) -> None:
    body = {
        "export_id": export_id,
        "user_id": user_id,
        "module": module,
        "generated_at": datetime.now(UTC).isoformat(),
        "data": data,
    }
    try:
        client("s3").put_object(
            Bucket=settings().exports_bucket,
            Key=_key(export_id, module),
            Body=json.dumps(body, default=str).encode(),
            ContentType="application/json",
        )
    except _s3_errors() as exc:
        raise ExportsUnavailable(str(exc)) from exc


def ready_parts(export_id: str) -> set[str]:
    """The modules whose part of this export is written."""
    try:
        page = client("s3").list_objects_v2(Bucket=settings().exports_bucket, Prefix=f"exports/{export_id}/")
    except _s3_errors() as exc:
        raise ExportsUnavailable(str(exc)) from exc
    return {o["Key"].rsplit("/", 1)[1].removesuffix(".json") for o in page.get("Contents", [])}


def delete(export_id: str) -> int:
    """Every part of an export (an erasure takes the copies too); deleting again is a no-op."""
    s3, bucket = client("s3"), settings().exports_bucket
    try:
        page = s3.list_objects_v2(Bucket=bucket, Prefix=f"exports/{export_id}/")
        keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
        if keys:
            s3.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
    except _s3_errors() as exc:
        raise ExportsUnavailable(str(exc)) from exc
    return len(keys)


def download_url(export_id: str, module: str) -> str:
    return client("s3").generate_presigned_url(
        "get_object",
        Params={"Bucket": settings().exports_bucket, "Key": _key(export_id, module)},
        ExpiresIn=DOWNLOAD_EXPIRES_SECONDS,
    )


# --- the consumers' side: one part per module, built from the owner's own reads ------------


def consumer(module: str, build: Callable[[Principal], Any]) -> Callable[[Event], None]:
    """The UserExportRequested handler of `module`: `build(owner)` returns its part, read as
    the owner would read it (a Principal of the user, as the authorizer would pass on)."""
    from finflow import contracts
    from finflow.problems import Principal

    def handle(event) -> None:
        req = contracts.ReadsUserExportRequested.model_validate(event.data)
        owner = Principal(subject=req.user_id, roles=frozenset({"customer"}), kind="user")
        write_part(req.export_id, req.user_id, module, build(owner))

    return handle


def every_page(fetch: Callable[[str | None], Any]) -> list[dict]:
    """Every item of a paginated read (`fetch(cursor)` -> a page with items and next_cursor)."""
    items: list[dict] = []
    cursor = None
    while True:
        page = fetch(cursor)
        items += [i.model_dump(mode="json") for i in page.items]
        if not (cursor := page.next_cursor):
            return items
