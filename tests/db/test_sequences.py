"""sequences.reserve hands out exactly what the same number of allocate calls would."""

from __future__ import annotations

import pytest

from pivotal.core import sequences
from pivotal.core.context import Actor, Tx
from pivotal.db.engine import Database

ACTOR = Actor("test", "api_key", True)


def _by_allocate(db: Database, workspace: str, now: int, counts: dict[str, int]) -> dict:
    with db.transaction(write=True) as conn:
        return {
            name: [sequences.allocate(conn, workspace, name, now) for _ in range(count)]
            for name, count in counts.items()
        }


def _by_reserve(db: Database, workspace: str, now: int, counts: dict[str, int]) -> dict:
    first, *others = counts
    with db.transaction(write=True) as conn:
        tx = Tx(conn, workspace, ACTOR, now)
        own = sequences.reserve(tx, first, {name: counts[name] for name in others})
        taken = {first: [own]}
        for name in others:
            taken[name] = [sequences.created_at(tx, name) for _ in range(counts[name])]
        assert all(not left for left in tx.stamps.values())  # every reserved value used
        # Beyond what was reserved, created_at allocates as before.
        after = sequences.created_at(tx, "activity")
    return {**taken, "after": after}


@pytest.mark.parametrize(
    "nows",
    [
        [1_000],  # fresh counters: the insert branch
        [1_000, 1_000, 500],  # time behind the counters: each value one past the last
        [1_000, 90_000],  # time ahead of the counters: values start at now
    ],
)
def test_reserve_equals_allocate(db: Database, nows: list[int]) -> None:
    counts = {"customer": 1, "event": 2, "activity": 1}
    for now in nows:
        allocated = _by_allocate(db, "ws_allocate", now, {**counts, "activity": 2})
        reserved = _by_reserve(db, "ws_reserve", now, counts)
        assert reserved["customer"] == allocated["customer"]
        assert reserved["event"] == [created for _, created in allocated["event"]]
        activity = [created for _, created in allocated["activity"]]
        assert [*reserved["activity"], reserved["after"]] == activity
    # The counters end in step, display ids included.
    with db.transaction(write=True) as conn:
        for name in counts:
            assert sequences.allocate(conn, "ws_reserve", name, 1) == sequences.allocate(
                conn, "ws_allocate", name, 1
            )


def test_a_counter_is_reserved_once(db: Database) -> None:
    with db.transaction(write=True) as conn, pytest.raises(ValueError):
        sequences.reserve(Tx(conn, "ws", ACTOR, 1), "event", {"event": 1})
