"""The audit trail: every state change and every read of personal data, who made it, from where and when.

Rows are only ever added. On PostgreSQL a trigger refuses UPDATE and DELETE (see APPEND_ONLY_SQL); the one
exception is the retention purge, which may replace the personal values inside `details` (and nothing else)
after switching on the transaction-local setting `callback.audit_scrub` (see callback/retention.py).
"""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import DDL, JSON, ForeignKey, Index, String, event
from sqlalchemy.orm import Mapped, mapped_column

from callback.extensions import Model
from callback.models.types import UTCDateTime
from callback.partitions import PARTITION_KEY, create_initial_partitions


class AuditChannel(StrEnum):
    """Where an audited action came in."""

    WEB = "web"
    API = "api"
    CLI = "cli"
    DIALER = "dialer"
    WEBHOOK = "webhook"


class AuditEvent(Model):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Where the change came from when no user made it: "cli", "import:orders.csv", "tick".
    source: Mapped[str | None] = mapped_column(String(200))
    # web, api, cli, dialer or webhook (AuditChannel); null only on events written before the column existed.
    channel: Mapped[str | None] = mapped_column(String(16))
    # The client's address (behind TRUSTED_PROXIES); null outside a request (CLI, dialer).
    address: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(40))
    entity_type: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[int | None]
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    __table_args__ = (
        Index("ix_audit_events_entity", "entity_type", "entity_id"),
        # The audit page and API list newest first, filtered by period, actor or action.
        Index("ix_audit_events_at", "at"),
        Index("ix_audit_events_actor_at", "actor_id", "at"),
        Index("ix_audit_events_action_at", "action", "at"),
        # PostgreSQL: one partition per UTC month, primary key (id, at) (callback/partitions.py).
        {"postgresql_partition_by": "RANGE (at)", "info": {PARTITION_KEY: "at"}},
    )


# PostgreSQL: nobody, the application included, changes or deletes an event. The retention purge may
# rewrite `details` alone, marking it {"purged": true}, in a transaction that ran
# SELECT set_config('callback.audit_scrub', 'on', true). The migration installs the same SQL.
APPEND_ONLY_SQL = (
    """
CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND current_setting('callback.audit_scrub', true) = 'on'
       AND (to_jsonb(NEW) - 'details') = (to_jsonb(OLD) - 'details')
       AND (NEW.details::jsonb -> 'purged') = 'true'::jsonb THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION USING
        MESSAGE = 'audit_events is append-only: ' || TG_OP || ' refused',
        ERRCODE = 'insufficient_privilege';
END
$$ LANGUAGE plpgsql
""",
    """
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()
""",
)

for _statement in APPEND_ONLY_SQL:
    event.listen(AuditEvent.__table__, "after_create", DDL(_statement).execute_if(dialect="postgresql"))
event.listen(AuditEvent.__table__, "after_create", create_initial_partitions)
