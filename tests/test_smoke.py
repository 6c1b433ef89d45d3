from support import assert_error


def test_create_and_get_customer(api):
    created = api.post("/api/v1/customers", json={"name": "Aurora"})
    assert created.status_code == 201
    body = created.json()
    assert body["display_id"] == 1
    assert api.get(f"/api/v1/customers/{body['id']}").json() == body


def test_missing_name(api):
    assert_error(api.post("/api/v1/customers", json={}), 400, "missing_field", "name")
