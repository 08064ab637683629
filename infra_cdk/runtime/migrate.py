"""A module's migrations on deploy: Alembic `upgrade head` on the module's own database,
with the module's own credentials (DB_SECRET_ARN). Rerun whenever the migrations change."""

from __future__ import annotations

from .cfn import custom_resource


def migrate(props: dict) -> dict:
    from finflow import migrations

    migrations.upgrade(props["Module"])
    return {"Revision": "head"}


handler = custom_resource(migrate)
