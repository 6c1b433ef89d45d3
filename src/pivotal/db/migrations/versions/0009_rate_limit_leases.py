"""rate-limit hits taken several at a time, with unspent ones given back

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28 02:30:00

A process may now take several hits of a key's window in one decision and spend them
itself during that second (core/ratelimit.py, Leases), giving back the ones it did not
spend. On PostgreSQL the decision is a new function; the old one stays for processes of
the previous version during a rolling deploy, and nothing of this version calls it.
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# As pivotal_rate_limit_hit (migration 0006), but: first give back p_back_hits unspent
# hits of second p_back_second, then grant up to p_want hits, at most 1/p_share of the
# room left (one whenever there is room), never beyond it (ratelimit.grantable). Slots
# emptied by a give-back are not the oldest hit of anything.
RATE_LIMIT_TAKE = """
CREATE FUNCTION pivotal_rate_limit_take(
    p_bucket text, p_limit integer, p_now bigint, p_window integer, p_lock bigint,
    p_want integer, p_share integer, p_back_second bigint, p_back_hits integer
) RETURNS TABLE (granted integer, used bigint, oldest bigint)
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_column
DECLARE
    v_used bigint;
    v_oldest bigint;
    v_granted integer;
BEGIN
    PERFORM pg_advisory_xact_lock(p_lock);
    IF p_back_hits > 0 THEN
        UPDATE rate_limit_slots AS s SET hits = GREATEST(s.hits - p_back_hits, 0)
        WHERE s.bucket = p_bucket AND s.second = p_back_second;
    END IF;
    SELECT COALESCE(SUM(s.hits), 0), MIN(s.second) FILTER (WHERE s.hits > 0)
    INTO v_used, v_oldest
    FROM rate_limit_slots AS s
    WHERE s.bucket = p_bucket AND s.second > p_now - p_window;
    v_granted := LEAST(p_want, GREATEST((p_limit - v_used) / p_share, 1), p_limit - v_used);
    IF v_granted <= 0 THEN
        RETURN QUERY SELECT 0, v_used, COALESCE(v_oldest, p_now);
        RETURN;
    END IF;
    INSERT INTO rate_limit_slots AS s (bucket, second, hits)
    VALUES (p_bucket, p_now, v_granted)
    ON CONFLICT (bucket, second) DO UPDATE SET hits = s.hits + v_granted;
    RETURN QUERY SELECT v_granted, v_used + v_granted, COALESCE(v_oldest, p_now);
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(RATE_LIMIT_TAKE)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "DROP FUNCTION pivotal_rate_limit_take"
            "(text, integer, bigint, integer, bigint, integer, integer, bigint, integer)"
        )
