"""rate-limit decisions commit without waiting for the WAL flush

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27 20:30:00

Every authenticated request counts a hit, so on PostgreSQL every request committed a
write and waited for its WAL record to reach disk. The function now makes its own
transaction commit asynchronously (synchronous_commit off, for that transaction only):
visibility and locking are unchanged, and a database crash can forget at most the last
fraction of a second of hits, letting a key a few extra requests in the minute after.
The transactions that carry customer data are untouched: they still wait for the disk.
That holds because the function is only ever called as a statement of its own, in
autocommit (core/admission.py, core/ratelimit.py): called inside a larger transaction it
would relax that whole transaction's commit.
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def _function(async_commit: bool) -> str:
    """The decision of 0006, with or without the asynchronous commit."""
    relax = "    PERFORM set_config('synchronous_commit', 'off', true);\n" if async_commit else ""
    return f"""
CREATE OR REPLACE FUNCTION pivotal_rate_limit_hit(
    p_bucket text, p_limit integer, p_now bigint, p_window integer, p_lock bigint
) RETURNS TABLE (allowed boolean, used bigint, oldest bigint)
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_column
DECLARE
    v_used bigint;
    v_oldest bigint;
BEGIN
{relax}    PERFORM pg_advisory_xact_lock(p_lock);
    SELECT COALESCE(SUM(s.hits), 0), MIN(s.second) INTO v_used, v_oldest
    FROM rate_limit_slots AS s
    WHERE s.bucket = p_bucket AND s.second > p_now - p_window;
    IF v_used >= p_limit THEN
        RETURN QUERY SELECT false, v_used, COALESCE(v_oldest, p_now);
        RETURN;
    END IF;
    INSERT INTO rate_limit_slots AS s (bucket, second, hits) VALUES (p_bucket, p_now, 1)
    ON CONFLICT (bucket, second) DO UPDATE SET hits = s.hits + 1;
    RETURN QUERY SELECT true, v_used + 1, COALESCE(v_oldest, p_now);
END
$$
"""


def upgrade() -> None:
    # set_config(..., true) is SET LOCAL: it lasts until the end of the calling
    # transaction, so the commit of the statement that called the function is the one
    # relaxed (a SET clause on the function would be undone when it returns).
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_function(async_commit=True))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_function(async_commit=False))
