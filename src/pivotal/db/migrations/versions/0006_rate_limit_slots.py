"""rate-limit hits counted per second instead of one row per request

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 17:05:00

A window of one row per accepted request made every decision count up to a whole
minute of rows (tens of thousands for a high-limit key); per-second slots bound it at 60.
The old rows only ever described the last minute, so they are dropped, not converted.
On PostgreSQL a function makes each decision one round trip (core/ratelimit.py).
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# Lock the bucket, sum its window, count the hit if there is room: one statement, so in
# autocommit the advisory lock lives exactly as long as the decision. A VOLATILE
# function takes a fresh snapshot per statement, so the sum sees every hit committed
# before the lock was granted.
RATE_LIMIT_HIT = """
CREATE FUNCTION pivotal_rate_limit_hit(
    p_bucket text, p_limit integer, p_now bigint, p_window integer, p_lock bigint
) RETURNS TABLE (allowed boolean, used bigint, oldest bigint)
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_column
DECLARE
    v_used bigint;
    v_oldest bigint;
BEGIN
    PERFORM pg_advisory_xact_lock(p_lock);
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
    op.create_table(
        "rate_limit_slots",
        sa.Column("bucket", sa.String(length=128), nullable=False),
        sa.Column("second", sa.BigInteger(), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("bucket", "second", name=op.f("pk_rate_limit_slots")),
    )
    with op.batch_alter_table("rate_limit_hits", schema=None) as batch_op:
        batch_op.drop_index("ix_rate_limit_hits_bucket_at")
    op.drop_table("rate_limit_hits")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(RATE_LIMIT_HIT)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION pivotal_rate_limit_hit(text, integer, bigint, integer, bigint)")
    op.create_table(
        "rate_limit_hits",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("bucket", sa.String(length=128), nullable=False),
        sa.Column("at_us", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rate_limit_hits")),
    )
    with op.batch_alter_table("rate_limit_hits", schema=None) as batch_op:
        batch_op.create_index("ix_rate_limit_hits_bucket_at", ["bucket", "at_us"], unique=False)
    op.drop_table("rate_limit_slots")
