"""Alembic, driven from code: each module has its own migrations folder and version table."""

from __future__ import annotations

import importlib
from pathlib import Path

from alembic import command
from alembic.config import Config

from finflow.db import database_url


def version_table(module: str) -> str:
    return f"alembic_version_{module}"


def alembic_config(module: str) -> Config:
    package = importlib.import_module(f"functions.{module}")
    if package.__file__ is None:  # a namespace package: no folder to find migrations/ in
        raise RuntimeError(f"functions.{module} has no __init__.py, so its migrations cannot be found")
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(package.__file__).parent / "migrations"))
    cfg.attributes["module"] = module
    return cfg


def upgrade(module: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(module), revision)


def run_env(module: str) -> None:
    """Body of every module's migrations/env.py (online mode only: we always have a database)."""
    from alembic import context
    from sqlalchemy import create_engine, pool

    connectable = create_engine(database_url(module), poolclass=pool.NullPool)
    with connectable.connect() as connection:
        context.configure(connection=connection, version_table=version_table(module))
        with context.begin_transaction():
            context.run_migrations()


def create_event_tables(op) -> None:
    """The outbox and processed-events tables every producer/consumer module keeps."""
    import sqlalchemy as sa
    from sqlalchemy.dialects.postgresql import JSONB, UUID

    op.create_table(
        "outbox",
        sa.Column("event_id", UUID(as_uuid=False), primary_key=True),
        sa.Column("detail_type", sa.String(64), nullable=False),
        sa.Column("detail", JSONB, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("published_at", sa.DateTime(timezone=True)),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    )
    # the sweeper only ever scans what is still unpublished
    op.create_index("outbox_unpublished", "outbox", ["created_at"], postgresql_where=sa.text("published_at IS NULL"))
    op.create_table(
        "processed_events",
        sa.Column("event_id", sa.String(64), primary_key=True),
        sa.Column("detail_type", sa.String(64), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
