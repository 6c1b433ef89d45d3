"""Rate-limit leases (core/ratelimit.py, Leases): hits taken several at a time, on both
engines, without ever letting a key past its limit."""

from __future__ import annotations

import math
import threading
import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from conftest import SECRET, MakeKey
from pivotal.app import create_app
from pivotal.config import Settings
from pivotal.core.errors import RateLimited
from pivotal.core.ratelimit import DatabaseStore, Grant, Leases, RateLimiter, Window
from support import auth

ME = "/api/v1/me"


def slots(db, bucket: str) -> dict[int, int]:
    with db.transaction(write=False) as conn:
        rows = conn.execute(
            text("SELECT second, hits FROM rate_limit_slots WHERE bucket = :b"), {"b": bucket}
        ).all()
    return {second: hits for second, hits in rows}


def test_a_decision_grants_what_the_window_has_room_for_and_takes_back_the_rest(db):
    store = DatabaseStore(db)
    assert store.take("k", 10, 100, want=4) == Grant(4, 4, 100)
    assert store.take("k", 10, 101, want=4) == Grant(4, 8, 100)
    assert store.take("k", 10, 102, want=4) == Grant(2, 10, 100)  # only the room left
    assert store.take("k", 10, 102, want=4) == Grant(0, 10, 100)
    # Second 100 gives back 3 of its 4, second 101 all 4: the window's oldest hit is
    # then in second 100 still, then in 102 once 100 is empty too.
    assert store.take("k", 10, 103, want=1, back=(101, 4)) == Grant(1, 7, 100)
    assert store.take("k", 10, 103, want=5, back=(100, 4)) == Grant(5, 8, 102)
    assert slots(db, "k") == {100: 0, 101: 0, 102: 2, 103: 6}
    assert store.take("k", 10, 103, want=1, back=(100, 4)) == Grant(1, 9, 102)  # never below 0
    # With a share, at most that part of the room left, but one hit while there is room.
    assert store.take("s", 10_000, 100, want=64, share=1024) == Grant(9, 9, 100)
    assert store.take("s", 10_000, 100, want=4, share=1024) == Grant(4, 13, 100)
    assert store.take("s", 30, 100, want=64, share=1024) == Grant(1, 14, 100)  # a key of 30
    assert store.take("s", 14, 100, want=64, share=1024) == Grant(0, 14, 100)  # no room
    assert store.take("t", 1_000, 100, want=64, share=1024) == Grant(1, 1, 100)
    assert Grant(5, 8, 102).window() == Window(True, 4, 102)  # 4 of the 5 not spent yet
    assert Grant(0, 10, 100).window() == Window(False, 10, 100)


def test_a_lease_is_spent_in_its_own_second_and_the_rest_given_back_once():
    leases = Leases(most=8, share=4)
    assert leases.spend("d", 100) is None
    assert leases.ask("d", 100) == (1, None)  # nothing known about the key yet
    leases.keep("d", 100, 100, Grant(1, 1, 100))
    assert leases.spend("d", 100) is None  # that one hit was the asking request's
    assert leases.ask("d", 100) == (8, None)  # room 99: 99 // 4 = 24, at most 8
    leases.keep("d", 100, 100, Grant(8, 9, 100))
    assert [leases.spend("d", 100) for _ in range(8)] == [
        Window(True, 3, 100),
        Window(True, 4, 100),
        Window(True, 5, 100),
        Window(True, 6, 100),
        Window(True, 7, 100),
        Window(True, 8, 100),
        Window(True, 9, 100),
        None,
    ]
    leases.keep("d", 100, 100, Grant(8, 17, 100))
    assert leases.spend("d", 101) is None  # a lease never outlives its second
    assert leases.ask("d", 101) == (8, (100, 7))  # room 100 - (17 - 7)
    assert leases.ask("d", 101) == (8, None)  # given back once only
    leases.keep("d", 100, 101, Grant(8, 18, 100))
    leases.keep("d", 100, 101, Grant(3, 21, 100))  # another thread's, same second: pooled
    assert leases.spend("d", 101) == Window(True, 13, 100)
    # A slow thread's, for a past second: 101's lease stays, and its 7 unspent hits can
    # be spent by nobody now, so they go back to the database at once.
    assert leases.keep("d", 100, 100, Grant(8, 30, 100)) == (100, 7)
    assert leases.spend("d", 101) == Window(True, 14, 100)
    assert leases.ask("d", 100) == (8, None)  # nor does a stale request give 101's back
    assert leases.spend("d", 101) == Window(True, 15, 100)
    leases.keep("d", 100, 102, Grant(0, 100, 100))
    assert leases.ask("d", 102) == (1, None)  # no room: one hit per decision
    leases.prune(161)
    assert leases.spend("d", 102) is None and leases.ask("d", 161) == (1, None)


def test_one_process_counts_every_request_exactly_with_few_decisions(app, client, db, make_key):
    """A key with room to spare: each answer's Remaining is one less than the one
    before, while the database holds the spent hits plus at most one lease's worth."""
    key = make_key(rate_limit=1_000_000)
    remaining = []
    for _ in range(40):
        response = client.get(ME, headers=auth(key))
        assert response.status_code == 200
        remaining.append(int(response.headers["x-ratelimit-remaining"]))
    assert remaining == list(range(999_999, 999_959, -1))
    key_id = client.get(ME, headers=auth(key)).json()["api_key"]["id"]
    held = sum(slots(db, key_id).values())
    assert 41 <= held <= 41 + Leases.MOST - 1


def test_the_limit_holds_across_processes_taking_leases(database_url, make_key: MakeKey):
    """Two apps (two lease books, as two processes have) admit a key concurrently from
    three threads each until refused: exactly the limit is admitted, never more."""
    limit = 400
    key = make_key(rate_limit=limit)
    apps = [create_app(Settings(database_url=database_url, secret_key=SECRET)) for _ in range(2)]
    admitted = []
    lock = threading.Lock()

    start = threading.Barrier(6)

    def hammer(admission, limiter: RateLimiter) -> None:
        start.wait()
        count = 0
        for _ in range(limit + 1):  # bounded: a limiter that never refuses fails, not hangs
            decision = admission.admit(f"Bearer {key}")
            try:
                RateLimiter.settle(decision.window, limit, decision.at)
            except RateLimited:
                break
            count += 1
        with lock:
            admitted.append(count)

    threads = []
    for app in apps:
        services = app.state.services
        # Small leases, so that a limit of 400 takes many of them: up to 8, never more
        # than 1/16 of the room left.
        services.rate_limiter.leases = Leases(most=8, share=16)
        for _ in range(3):
            threads.append(
                threading.Thread(target=hammer, args=(services.admission, services.rate_limiter))
            )
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for app in apps:
        app.state.services.db.dispose()
    assert sum(admitted) == limit


def test_a_lease_replaced_after_a_slow_thread_joined_it_hands_its_hits_back():
    leases = Leases(most=8, share=4)
    assert leases.keep("d", 100, 100, Grant(8, 8, 100)) is None
    assert leases.ask("d", 101) == (8, (100, 7))  # second 100's hits given back
    # A thread that decided in second 100 keeps its grant after that give-back: pooled
    # into second 100's lease, whose hits nobody spends in second 101 ...
    assert leases.keep("d", 100, 100, Grant(8, 16, 100)) is None
    # ... so second 101's lease, replacing it, hands them back.
    assert leases.keep("d", 100, 101, Grant(8, 24, 100)) == (100, 7)
    assert leases.keep("d", 100, 101, Grant(8, 32, 100)) is None  # pooled, nothing owed
    assert [leases.spend("d", 101) is not None for _ in range(15)] == [True] * 14 + [False]


def test_hits_a_newer_lease_left_unspendable_go_back_to_the_database(app, db, make_key):
    """A request whose grant lands after another thread's lease for a later second: its
    unspent hits leave the slot at once, rather than refusing requests early until they
    leave the window (what made the limit under-admit across processes)."""
    key = make_key(rate_limit=1_000_000)
    admission = app.state.services.admission
    digest = admission.digest(f"Bearer {key}")
    later = math.floor(time.time()) + 30  # as if another thread's second were ahead
    app.state.services.rate_limiter.leases.keep(digest, 1_000_000, later, Grant(1, 1, later))
    admitted = admission.admit(f"Bearer {key}")
    assert admitted.window.allowed
    # The decision took 64 hits (room 999,999 // 1024, at most 64); 63 went back.
    assert sum(slots(db, admitted.key.id).values()) == 1


@pytest.mark.parametrize("remaining_room", [2_047, 2_048])
def test_keys_near_their_limit_decide_every_request(remaining_room):
    """Under 2 * SHARE of room a decision asks for one hit: exact, as without leases."""
    leases = Leases()
    leases.keep("d", remaining_room + 1, 100, Grant(1, 1, 100))
    want, _ = leases.ask("d", 100)
    assert want == (1 if remaining_room < 2 * Leases.SHARE else 2)


def test_the_fast_lane_spends_leases_too(client, make_key: MakeKey):
    """Lists, and single customers (on PostgreSQL found by admission's own statement,
    with a lease: the lookup alone joined to the customer)."""
    key = make_key(rate_limit=1_000_000)
    made = client.post("/api/v1/customers", json={"name": "Acme"}, headers=auth(key)).json()
    targets = ["/api/v1/customers", f"/api/v1/customers/{made['id']}", "/api/v1/customers/1"]
    answers = [client.get(targets[i % 3], headers=auth(key)) for i in range(12)]
    lefts = [int(a.headers["x-ratelimit-remaining"]) for a in answers]
    assert lefts == list(range(999_998, 999_986, -1))
    assert all(a.status_code == 200 for a in answers)
    assert [a.json() for a in answers[1::3]] == [made] * 4
    missing = client.get("/api/v1/customers/2", headers=auth(key))
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "customer_not_found"
    assert int(missing.headers["x-ratelimit-remaining"]) == 999_986


def test_a_revoked_key_holding_a_lease_is_refused_at_once(app, client, db, make_key: MakeKey):
    from pivotal.workspaces import service as workspaces

    key = make_key(rate_limit=1_000_000)
    for _ in range(3):
        assert client.get(ME, headers=auth(key)).status_code == 200  # a lease is held now
    key_id = client.get(ME, headers=auth(key)).json()["api_key"]["id"]
    with db.transaction(write=True) as conn:
        workspaces.revoke_key(conn, key_id)
    response = client.get(ME, headers=auth(key))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "api_key_revoked"


def test_memory_storage_takes_no_leases(database_url, make_key: MakeKey):
    app = create_app(
        Settings(database_url=database_url, secret_key=SECRET, rate_limit_storage="memory")
    )
    key = make_key(rate_limit=1_000_000)
    with TestClient(app, raise_server_exceptions=False) as memory_client:
        for _ in range(5):
            assert memory_client.get(ME, headers=auth(key)).status_code == 200
    app.state.services.db.dispose()
    assert app.state.services.rate_limiter.leases._leases == {}
