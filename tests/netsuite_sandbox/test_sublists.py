"""Sublists on update, as Oracle documents them: lines without a key are appended; ?replace= replaces the book."""

from __future__ import annotations

from netsuite_sandbox import NetSuiteSandbox

from .conftest import error_code, new_id, person


def line(label: str, city: str = "Springfield", **fields) -> dict:
    return {"label": label, "addressBookAddress": {"addr1": "1 Main St", "city": city, "zip": "62701"}, **fields}


def book(*lines: dict) -> dict:
    return {"addressBook": {"items": list(lines)}}


def labels(rest, cid: int) -> list[str]:
    return [item["label"] for item in rest("GET", f"/record/v1/customer/{cid}").json()["addressBook"]["items"]]


def test_lines_without_a_key_are_appended_on_every_update(rest) -> None:
    cid = new_id(rest("PUT", "/record/v1/customer/eid:A1", json=person(**book(line("Home")))))
    assert labels(rest, cid) == ["Home"]
    # An upsert of a record that exists is an update: the line is added again.
    rest("PUT", "/record/v1/customer/eid:A1", json=person(**book(line("Home"))))
    rest("PATCH", f"/record/v1/customer/{cid}", json=book(line("Home")))
    assert labels(rest, cid) == ["Home", "Home", "Home"]


def test_replace_keeps_exactly_the_lines_sent(rest) -> None:
    cid = new_id(rest("PUT", "/record/v1/customer/eid:A2", json=person(**book(line("Home"), line("Work")))))
    for _ in range(3):
        answer = rest("PUT", "/record/v1/customer/eid:A2?replace=addressBook", json=person(**book(line("Home"))))
        assert answer.status_code == 204
    assert labels(rest, cid) == ["Home"]
    rest("PATCH", f"/record/v1/customer/{cid}?replace=addressBook", json=book(line("Shop"), line("Depot")))
    assert labels(rest, cid) == ["Shop", "Depot"]


def test_keyed_lines_are_updated_in_place_and_omitted_fields_kept(rest) -> None:
    cid = new_id(rest("POST", "/record/v1/customer", json=person(**book(line("Home"), line("Work")))))
    items = rest("GET", f"/record/v1/customer/{cid}").json()["addressBook"]["items"]
    home, work = items[0]["id"], items[1]["id"]
    rest("PATCH", f"/record/v1/customer/{cid}", json=book({"id": work, "addressBookAddress": {"city": "Gary"}}))
    after = rest("GET", f"/record/v1/customer/{cid}").json()["addressBook"]["items"]
    assert [i["id"] for i in after] == [home, work]
    assert after[1]["addressBookAddress"] == {"addr1": "1 Main St", "city": "Gary", "zip": "62701"}
    assert after[1]["label"] == "Work"

    # Replace: the keyed line that matches stays (updated), the others go, new lines are added.
    rest(
        "PATCH",
        f"/record/v1/customer/{cid}?replace=addressBook",
        json=book({"id": home, "label": "House"}, line("New")),
    )
    final = rest("GET", f"/record/v1/customer/{cid}").json()["addressBook"]["items"]
    assert [(i["id"] == home, i["label"]) for i in final] == [(True, "House"), (False, "New")]


def test_body_fields_left_out_stay_and_null_clears_one(rest) -> None:
    cid = new_id(rest("POST", "/record/v1/customer", json=person(email="a@example.com", phone="555 123 4567")))
    rest("PATCH", f"/record/v1/customer/{cid}", json={"phone": None})
    got = rest("GET", f"/record/v1/customer/{cid}").json()
    assert got["email"] == "a@example.com"
    assert "phone" not in got


def test_one_default_billing_line_at_a_time(rest) -> None:
    cid = new_id(rest("POST", "/record/v1/customer", json=person(**book(line("Home", defaultBilling=True)))))
    rest("PATCH", f"/record/v1/customer/{cid}", json=book(line("Work", defaultBilling=True)))
    items = rest("GET", f"/record/v1/customer/{cid}").json()["addressBook"]["items"]
    assert [i["defaultBilling"] for i in items] == [False, True]


def test_replace_of_an_unknown_sublist_is_refused(sandbox: NetSuiteSandbox, rest) -> None:
    answer = rest("PUT", "/record/v1/customer/eid:A3?replace=nonsense", json=person())
    assert answer.status_code == 400
    assert error_code(answer) == "INVALID_PARAMETER"
    assert sandbox.count_customers() == 0
