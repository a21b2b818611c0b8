"""The relational schema of the state store (SQLAlchemy Core); Alembic migrations create and change it."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

__all__ = ["answers", "conversations", "feedback", "ingest_events", "kv", "metadata"]

metadata = MetaData()

ingest_events = Table(
    "ingest_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(64), nullable=False, index=True),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
    Column("action", String(16), nullable=False),  # added | updated | removed | failed
    Column("doc_id", Text, nullable=False),
    Column("title", Text),
    Column("url", Text),
    Column("version", Text),
    Column("access", String(32)),
    Column("detail", Text),
)

answers = Table(
    "answers",
    metadata,
    Column("answer_id", String(64), primary_key=True),
    Column("channel", String(16), nullable=False),
    Column("conversation_id", Text, nullable=False),
    Column("thread_id", Text, index=True),
    Column("message_id", Text, index=True),
    Column("question", Text, nullable=False),
    Column("doc_ids", JSON, nullable=False),
    Column("confident", Boolean, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
)

feedback = Table(
    "feedback",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("answer_id", String(64), nullable=False, index=True),
    Column("user_id", Text, nullable=False),
    Column("positive", Boolean, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("answer_id", "user_id", name="uq_feedback_answer_user"),
)

conversations = Table(
    "conversations",
    metadata,
    Column("channel", String(16), primary_key=True),
    Column("conversation_id", String(512), primary_key=True),
    Column("is_private", Boolean, nullable=False),
    Column("user_id", Text),
    Column("reference", JSON, nullable=False),  # the adapter's own serialised reference
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

kv = Table(
    "kv",
    metadata,
    Column("key", String(255), primary_key=True),
    Column("value", Text, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
