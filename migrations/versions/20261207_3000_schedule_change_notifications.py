"""Tell every listening API process when a consultant's schedule changes: a notification on the
`muhurta_schedules` channel, sent by PostgreSQL when the transaction that changed it commits,
carrying the consultant's id; `*` when one of the tables is truncated. Each API process keeps the
public slot listings it has served and drops a consultant's when told (api/slot_listings.py,
docs/performance.md, twelfth pass).

A booking notifies only when something a listing reads changes (its consultant, offering, start,
blocked range or status): a payment's note or a reminder's mark does not drop listings. PostgreSQL
sends one notification per distinct payload per transaction, however many rows it touched.

Revision ID: 3000
Revises: 2900
Create Date: 2026-12-07 18:00:00+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "3000"
down_revision: str | None = "2900"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("consultants", "offerings", "availability_overrides", "bookings", "webinar_sessions")
BOOKING_COLUMNS = ("consultant_id", "offering_id", "starts_at", "blocked", "status")


def upgrade() -> None:
    op.execute("""
        CREATE FUNCTION notify_schedule_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            column_name text := CASE WHEN TG_TABLE_NAME = 'consultants' THEN 'id' ELSE 'consultant_id' END;
            old_id text;
            new_id text;
        BEGIN
            IF TG_LEVEL = 'STATEMENT' THEN  -- TRUNCATE
                PERFORM pg_notify('muhurta_schedules', '*');
                RETURN NULL;
            END IF;
            IF TG_OP <> 'INSERT' THEN
                old_id := to_jsonb(OLD) ->> column_name;
                PERFORM pg_notify('muhurta_schedules', old_id);
            END IF;
            IF TG_OP <> 'DELETE' THEN
                new_id := to_jsonb(NEW) ->> column_name;
                IF new_id IS DISTINCT FROM old_id THEN
                    PERFORM pg_notify('muhurta_schedules', new_id);
                END IF;
            END IF;
            RETURN NULL;
        END $$
    """)
    for table in TABLES:
        if table == "bookings":
            changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in BOOKING_COLUMNS)
            op.execute("""
                CREATE TRIGGER bookings_notify_schedule_changed
                AFTER INSERT OR DELETE ON bookings
                FOR EACH ROW EXECUTE FUNCTION notify_schedule_changed()
            """)
            op.execute(f"""
                CREATE TRIGGER bookings_notify_schedule_updated
                AFTER UPDATE ON bookings
                FOR EACH ROW WHEN ({changed}) EXECUTE FUNCTION notify_schedule_changed()
            """)
        else:
            op.execute(f"""
                CREATE TRIGGER {table}_notify_schedule_changed
                AFTER INSERT OR UPDATE OR DELETE ON {table}
                FOR EACH ROW EXECUTE FUNCTION notify_schedule_changed()
            """)
        op.execute(f"""
            CREATE TRIGGER {table}_notify_schedule_truncated
            AFTER TRUNCATE ON {table}
            FOR EACH STATEMENT EXECUTE FUNCTION notify_schedule_changed()
        """)


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"DROP TRIGGER {table}_notify_schedule_truncated ON {table}")
        op.execute(f"DROP TRIGGER {table}_notify_schedule_changed ON {table}")
    op.execute("DROP TRIGGER bookings_notify_schedule_updated ON bookings")
    op.execute("DROP FUNCTION notify_schedule_changed()")
