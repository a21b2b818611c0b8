"""The relational schema of the state store (SQLAlchemy Core); Alembic migrations create and change it."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

__all__ = [
    "answers",
    "case_counters",
    "case_events",
    "cases",
    "console_audit",
    "console_sessions",
    "console_signin_failures",
    "console_users",
    "conversations",
    "digest_subscriptions",
    "feedback",
    "gap_notes",
    "handled_messages",
    "ingest_events",
    "intake_dialogues",
    "kv",
    "kv_members",
    "metadata",
    "outbox",
]

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
    Column("text", Text),  # 0002: the answer text, attached to an OMO case that follows it
    Column("answer_ms", Integer),  # 0008: from starting on the question to the answer being ready
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

# 0007: a named set, one row per member (Matrix's direct chats under `matrix.direct.<user id>`)
kv_members = Table(
    "kv_members",
    metadata,
    Column("key", String(255), primary_key=True),
    Column("member", String(512), primary_key=True),
    Column("added_at", DateTime(timezone=True), nullable=False),
)

# --- 0002: OMO escalation and the outbox -------------------------------------------------------

case_counters = Table(
    "case_counters",
    metadata,
    Column("year", Integer, primary_key=True, autoincrement=False),
    Column("last", Integer, nullable=False),  # the last sequence number handed out that year
)

cases = Table(
    "cases",
    metadata,
    Column("ref", String(20), primary_key=True),  # OMO-2026-0042
    Column("year", Integer, nullable=False),
    Column("seq", Integer, nullable=False),
    Column("state", String(16), nullable=False, index=True),
    Column("urgency", String(16), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("municipality", Text, nullable=False),
    Column("description", Text, nullable=False),
    Column("contact", Text, nullable=False),
    Column("requester_channel", String(16), nullable=False),
    Column("requester_id", Text, nullable=False),
    Column("requester_name", Text),
    Column("private_conversation_id", Text),  # where the requester hears back
    Column("origin_conversation_id", Text),  # where the request began (maybe a shared room)
    Column("answer_id", String(64)),
    Column("attachment", JSON, nullable=False),  # question, answer text, sources
    Column("claimed_by", Text),
    Column("claimed_by_name", Text),
    Column("closing_note", Text),
    Column("created_at", DateTime(timezone=True), nullable=False, index=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("claimed_at", DateTime(timezone=True)),
    Column("closed_at", DateTime(timezone=True), index=True),
    Column("reminded_at", DateTime(timezone=True)),
    UniqueConstraint("year", "seq", name="uq_cases_year_seq"),
)

case_events = Table(
    "case_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_ref", String(20), nullable=False, index=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", Text, nullable=False),
    Column("event", String(32), nullable=False),
    Column("from_state", String(16)),
    Column("to_state", String(16), nullable=False),
    Column("detail", Text),
)

intake_dialogues = Table(
    "intake_dialogues",
    metadata,
    Column("channel", String(16), primary_key=True),
    Column("user_id", String(255), primary_key=True),
    Column("conversation_id", Text, nullable=False),  # the private chat the dialogue runs in
    Column("origin_conversation_id", Text),
    Column("answer_id", String(64)),  # the answer the official asked the OMO about, if any
    Column("step", String(32), nullable=False),
    Column("data", JSON, nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, index=True),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("channel", String(16), nullable=False),
    Column("conversation_id", String(512), nullable=False),
    Column("thread_id", Text),
    Column("kind", String(32), nullable=False),
    Column("payload", JSON, nullable=False),  # the encoded Reply
    Column("case_ref", String(20), index=True),
    Column("dedupe_key", String(255), unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("available_at", DateTime(timezone=True), nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("claimed_by", String(64)),
    Column("lease_until", DateTime(timezone=True)),
    Column("sent_at", DateTime(timezone=True)),
    Column("failed_at", DateTime(timezone=True)),
    Column("last_error", Text),
    Index("ix_outbox_pending", "sent_at", "failed_at", "available_at"),
    Index("ix_outbox_conversation", "channel", "conversation_id", "id"),
)

# --- 0003: the daily digest ---------------------------------------------------------------------

digest_subscriptions = Table(
    "digest_subscriptions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("channel", String(16), nullable=False),
    Column("conversation_id", String(512), nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("send_time", String(5)),  # "07:45" local; NULL: digest.time
    Column("omo", Boolean, nullable=False),  # kind flags, refreshed from the settings at each send
    Column("editors", Boolean, nullable=False),
    Column("subscribed_at", DateTime(timezone=True), nullable=False),
    Column("last_sent_date", Date),  # the local day last claimed: at most one digest per day
    Column("last_sent_at", DateTime(timezone=True)),  # the next digest covers what happened since
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("channel", "conversation_id", name="uq_digest_subscriptions_conversation"),
)

# Every incoming message is claimed here before it is handled, so a second instance syncing the same
# Matrix account, or a Bot Service retry of the same Teams activity, is handled once. 0005: a claim
# names its owner and carries a heartbeat and the message itself, so another instance can take over
# (and answer) a claim whose owner died; `done_at` is set (and the message dropped) once it is answered.
handled_messages = Table(
    "handled_messages",
    metadata,
    Column("channel", String(16), primary_key=True),
    Column("message_key", String(64), primary_key=True),  # sha256 of conversation and message id
    Column("at", DateTime(timezone=True), nullable=False, index=True),
    Column("owner", String(64)),  # the instance handling it
    Column("heartbeat_at", DateTime(timezone=True)),
    Column("done_at", DateTime(timezone=True)),
    Column("message", JSON),  # the IncomingMessage, while it is not done
    Index("ix_handled_messages_open", "done_at", "heartbeat_at"),
)

# --- 0005: the web console (issue 14) --------------------------------------------------------------

console_users = Table(
    "console_users",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("role", String(16), nullable=False),  # editor | omo | admin
    Column("password_hash", Text, nullable=False),  # argon2id, PHC string
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# A session is found by the sha256 of its cookie value, so a leaked database holds no usable cookie.
console_sessions = Table(
    "console_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_name", String(64), nullable=False, index=True),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False, index=True),
)

console_signin_failures = Table(
    "console_signin_failures",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(64), nullable=False),  # sha256 of user name and client address
    Column("at", DateTime(timezone=True), nullable=False),
    Index("ix_console_signin_failures_key_at", "key", "at"),
)

console_audit = Table(
    "console_audit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
    Column("actor", String(64), nullable=False),  # a console user, or "cli"
    Column("action", String(32), nullable=False),
    Column("target", Text),  # a case reference, a document id, a user name
    Column("detail", Text),
)

# A knowledge gap an editor marked handled: one row per answer (refused or given a 👎) it covered.
gap_notes = Table(
    "gap_notes",
    metadata,
    Column("answer_id", String(64), primary_key=True),
    Column("handled_by", String(64), nullable=False),
    Column("handled_at", DateTime(timezone=True), nullable=False),
    Column("note", Text, nullable=False),
)
