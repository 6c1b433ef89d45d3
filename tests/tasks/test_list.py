"""The onboarding's task list: position then created_at order, filters, exact pagination."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from support import assert_error, walk

URL = "/api/v1/tasks"


def tasks_url(onboarding):
    return f"/api/v1/onboardings/{onboarding['id']}/tasks"


def ids(tasks):
    return [t["id"] for t in tasks]


def test_default_position_is_the_end_of_the_list(api, onboarding, add_task):
    first, second = add_task(), add_task()
    assert (first["position"], second["position"]) == (0, 1)
    high = add_task(position=10)
    after_high = add_task()
    assert after_high["position"] == 11
    api.delete(f"{URL}/{after_high['id']}")
    api.delete(f"{URL}/{high['id']}")
    assert add_task()["position"] == 2  # one past the highest live task


def test_default_position_ignores_other_onboardings(make_onboarding, add_task):
    first, second = make_onboarding(), make_onboarding()
    add_task(first["id"], position=50)
    assert add_task(second["id"])["position"] == 0


def test_default_position_at_the_cap_still_lands_last(api, onboarding, add_task):
    top = add_task(position=2**31 - 1)
    last = add_task()
    assert last["position"] == 2**31 - 1
    assert ids(api.get(tasks_url(onboarding)).json()["data"]) == [top["id"], last["id"]]


def test_order_is_position_then_created_at(api, onboarding, add_task):
    a = add_task(position=5)
    b = add_task(position=1)
    c = add_task(position=5)
    d = add_task(position=0)
    e = add_task()  # 6
    f = add_task(position=1)
    listed = api.get(tasks_url(onboarding)).json()
    assert ids(listed["data"]) == ids([d, b, f, a, c, e])
    assert listed["has_more"] is False and listed["next_cursor"] is None
    api.patch(f"{URL}/{e['id']}", json={"position": 0})
    assert ids(api.get(tasks_url(onboarding)).json()["data"]) == ids([d, e, b, f, a, c])


def test_list_by_onboarding_display_id_and_only_its_tasks(api, make_onboarding, add_task):
    first, second = make_onboarding(), make_onboarding()
    mine = add_task(first["id"])
    add_task(second["id"])
    body = api.get(f"/api/v1/onboardings/{first['display_id']}/tasks").json()
    assert ids(body["data"]) == [mine["id"]]
    assert body["data"][0] == api.get(f"{URL}/{mine['id']}").json()


def test_deleted_tasks_are_not_listed(api, onboarding, add_task):
    kept, dropped = add_task(), add_task()
    api.delete(f"{URL}/{dropped['id']}")
    assert ids(api.get(tasks_url(onboarding)).json()["data"]) == [kept["id"]]


@pytest.mark.parametrize("ref", ["zzzzzzzzzzzzzzzzzzzzzzzz", "99", "0"])
def test_list_of_unknown_onboarding_is_404(api, onboarding, ref):
    assert_error(api.get(f"/api/v1/onboardings/{ref}/tasks"), 404, "onboarding_not_found")


def test_list_of_another_workspaces_onboarding_is_404(other_api, onboarding, add_task):
    add_task()
    assert_error(other_api.get(tasks_url(onboarding)), 404, "onboarding_not_found")


def test_bad_query_parameters(api, onboarding, add_task):
    add_task()
    path = tasks_url(onboarding)
    for limit in ["0", "101", "-1", "abc", "1.5", ""]:
        assert_error(api.get(path, params={"limit": limit}), 400, "invalid_parameter", "limit")
    for cursor in ["", "abc", "1717171717", "2026-02-30T00:00:00Z", "2026-05-26T17:21:09Zjunk"]:
        response = api.get(path, params={"cursor": cursor})
        assert_error(response, 400, "invalid_string", "cursor")
    for completed in ["maybe", "2", ""]:
        response = api.get(path, params={"completed": completed})
        assert_error(response, 400, "invalid_parameter", "completed")


def test_a_cursor_that_names_no_task_of_the_list_is_refused(api, make_onboarding, add_task):
    first, second = make_onboarding(), make_onboarding()
    add_task(first["id"])
    theirs = add_task(second["id"])
    for cursor in ["2000-01-01T00:00:00Z", "2999-01-01T00:00:00Z", theirs["created_at"]]:
        response = api.get(tasks_url(first), params={"cursor": cursor})
        assert_error(response, 400, "invalid_parameter", "cursor")


def test_cursor_continues_after_the_named_task(api, onboarding, add_task):
    made = [add_task(position=p) for p in (3, 1, 2, 1)]
    ordered = [made[1], made[3], made[2], made[0]]
    page = api.get(tasks_url(onboarding), params={"limit": 2}).json()
    assert ids(page["data"]) == ids(ordered[:2])
    assert page["has_more"] is True
    assert page["next_cursor"] == ordered[1]["created_at"]
    rest = api.get(tasks_url(onboarding), params={"cursor": page["next_cursor"]}).json()
    assert ids(rest["data"]) == ids(ordered[2:])
    assert rest["has_more"] is False and rest["next_cursor"] is None


def test_cursor_accepts_any_offset_for_the_same_instant(api, onboarding, add_task):
    made = [add_task() for _ in range(3)]
    instant = datetime.fromisoformat(made[0]["created_at"].replace("Z", "+00:00"))
    as_offset = instant.astimezone(timezone(timedelta(hours=-5))).isoformat()
    body = api.get(tasks_url(onboarding), params={"cursor": as_offset}).json()
    assert ids(body["data"]) == ids(made[1:])


@pytest.mark.many_requests
def test_walking_the_pages_visits_every_task_once_in_order(api, onboarding, add_task):
    positions = [7, 3, 3, 0, 9, 3, 1, 7, 0, 2, 5, 5, 5, 8, 1, 4, 6, 3, 2, 0, 9, 9, 1]
    made = [add_task(position=p) for p in positions]
    made += [add_task() for _ in range(4)]  # 10, 11, 12, 13
    expected = ids(sorted(made, key=lambda t: (t["position"], t["created_at"])))
    for limit in (1, 4, 5, 27, 100):
        pages = walk(api, tasks_url(onboarding), limit)
        assert [t["id"] for page in pages for t in page] == expected


@pytest.mark.many_requests
def test_walking_with_a_filter_visits_every_match_once(api, onboarding, add_task):
    made = [add_task(position=i % 4, completed=i % 3 == 0) for i in range(14)]
    for completed in (True, False):
        matching = [t for t in made if t["completed"] is completed]
        expected = ids(sorted(matching, key=lambda t: (t["position"], t["created_at"])))
        pages = walk(api, tasks_url(onboarding), 3, completed=str(completed).lower())
        assert [t["id"] for page in pages for t in page] == expected


@pytest.mark.many_requests
def test_walk_stays_exact_while_tasks_are_created_and_deleted(api, onboarding, add_task):
    made = [add_task(position=p) for p in (0, 0, 1, 1, 2, 2, 3, 3, 4, 4)]
    path = tasks_url(onboarding)
    first = api.get(path, params={"limit": 3}).json()
    seen = ids(first["data"])
    assert seen == ids(made[:3])
    cursor_task = made[2]
    assert first["next_cursor"] == cursor_task["created_at"]
    # Between pages: the cursor task itself is deleted, a not yet seen task is deleted,
    # a task lands before the cursor (never to be seen), and two land after it.
    api.delete(f"{URL}/{cursor_task['id']}")
    api.delete(f"{URL}/{made[5]['id']}")
    before = add_task(position=0)
    tied_after = add_task(position=1)
    at_end = add_task()
    cursor = first["next_cursor"]
    while cursor:
        body = api.get(path, params={"limit": 3, "cursor": cursor}).json()
        seen += ids(body["data"])
        cursor = body["next_cursor"]
    expected_rest = [made[3], tied_after, made[4], made[6], made[7], made[8], made[9], at_end]
    assert seen == ids(made[:3]) + ids(expected_rest)
    assert before["id"] not in seen
    assert len(seen) == len(set(seen))
