"""Token-based auth: HMAC-SHA256 over the requested URL, exact realm, four credentials, timestamp, nonce."""

from __future__ import annotations

import time

import pytest
import requests

from netsuite_sandbox import NetSuiteSandbox

from .conftest import error_code


def _get(sandbox: NetSuiteSandbox, auth, path: str = "/record/v1/customer/1", **kwargs) -> requests.Response:
    return requests.get(sandbox.base_url + path, auth=auth, timeout=10, **kwargs)


def _assert_invalid_login(response: requests.Response) -> None:
    assert response.status_code == 401
    body = response.json()
    assert body["title"] == "Unauthorized"
    assert body["status"] == 401
    assert error_code(response) == "INVALID_LOGIN"
    assert body["o:errorDetails"][0]["detail"].startswith("Invalid login attempt.")


def test_signed_request_is_accepted(sandbox: NetSuiteSandbox) -> None:
    cid = sandbox.create_customer({"companyName": "Acme", "subsidiary": {"id": "1"}})
    response = _get(sandbox, sandbox.oauth(), f"/record/v1/customer/{cid}", params={"expandSubResources": "true"})
    assert response.status_code == 200, response.headers.get("X-Sandbox-Auth-Failure")
    assert response.json()["companyName"] == "Acme"


def test_localhost_url_is_verified_against_the_host_the_client_used(sandbox: NetSuiteSandbox) -> None:
    cid = sandbox.create_customer({"companyName": "Acme", "subsidiary": {"id": "1"}})
    url = sandbox.base_url.replace("127.0.0.1", "localhost") + f"/record/v1/customer/{cid}"
    assert requests.get(url, auth=sandbox.oauth(), timeout=10).status_code == 200


@pytest.mark.parametrize(
    ("override", "reason"),
    [
        ({"client_key": "wrong-consumer-key"}, "unknown consumer key"),
        ({"client_secret": "wrong-consumer-secret"}, "signature does not match"),
        ({"resource_owner_key": "wrong-token-id"}, "unknown token ID"),
        ({"resource_owner_secret": "wrong-token-secret"}, "signature does not match"),
        ({"realm": "1234567_SB2"}, "realm"),
        ({"realm": "1234567-sb1"}, "realm"),
        ({"realm": None}, "realm"),
        ({"signature_method": "HMAC-SHA1"}, "HMAC-SHA256"),
        ({"signature_method": "PLAINTEXT"}, "HMAC-SHA256"),
    ],
)
def test_wrong_credential_realm_or_method_is_refused(sandbox: NetSuiteSandbox, override: dict, reason: str) -> None:
    response = _get(sandbox, sandbox.oauth(**override))
    _assert_invalid_login(response)
    assert reason in response.headers["X-Sandbox-Auth-Failure"]


def test_missing_authorization_is_refused(sandbox: NetSuiteSandbox) -> None:
    _assert_invalid_login(_get(sandbox, None))


def test_stale_timestamp_is_refused(sandbox: NetSuiteSandbox) -> None:
    response = _get(sandbox, sandbox.oauth(timestamp=str(int(time.time()) - 3600)))
    _assert_invalid_login(response)
    assert "timestamp" in response.headers["X-Sandbox-Auth-Failure"]


def test_replayed_nonce_is_refused(sandbox: NetSuiteSandbox) -> None:
    cid = sandbox.create_customer({"companyName": "Acme", "subsidiary": {"id": "1"}})
    request = requests.Request("GET", sandbox.base_url + f"/record/v1/customer/{cid}", auth=sandbox.oauth()).prepare()
    with requests.Session() as session:
        assert session.send(request, timeout=10).status_code == 200
        replay = session.send(request, timeout=10)
    _assert_invalid_login(replay)
    assert replay.headers["X-Sandbox-Auth-Failure"] == "nonce already used"


def test_tampered_query_parameter_is_refused(sandbox: NetSuiteSandbox) -> None:
    request = requests.Request(
        "POST",
        sandbox.base_url + "/query/v1/suiteql",
        params={"limit": "10", "offset": "0"},
        json={"q": "SELECT id FROM customer"},
        headers={"Prefer": "transient"},
        auth=sandbox.oauth(),
    ).prepare()
    request.url = request.url.replace("limit=10", "limit=20")
    with requests.Session() as session:
        response = session.send(request, timeout=10)
    _assert_invalid_login(response)
    assert response.headers["X-Sandbox-Auth-Failure"] == "signature does not match"


def test_signed_query_parameters_are_accepted(sandbox: NetSuiteSandbox) -> None:
    response = requests.post(
        sandbox.base_url + "/query/v1/suiteql",
        params={"limit": "10", "offset": "0"},
        json={"q": "SELECT id FROM customer"},
        headers={"Prefer": "transient"},
        auth=sandbox.oauth(),
        timeout=10,
    )
    assert response.status_code == 200, response.headers.get("X-Sandbox-Auth-Failure")


def test_sandbox_with_other_credentials_refuses_demo_ones() -> None:
    from netsuite_sandbox.demo import Credentials

    creds = Credentials("7654321", "ck", "cs", "tid", "ts")
    with NetSuiteSandbox(credentials=creds) as other:
        assert _get(other, other.oauth(), "/record/v1/customer/1").status_code == 404
        demo = NetSuiteSandbox()
        _assert_invalid_login(_get(other, demo.oauth()))


def test_nonces_are_remembered_for_the_window_and_forgotten_after(monkeypatch) -> None:
    """Every nonce of the last two windows is refused again, however many there are; older ones are let go (their
    timestamp would be refused anyway), so the memory of nonces stays bounded."""
    from netsuite_sandbox import DEMO_CREDENTIALS, auth

    clock = [1_000_000.0]
    monkeypatch.setattr(auth.time, "time", lambda: clock[0])
    validator = auth._Validator(DEMO_CREDENTIALS, window=300)
    seen = validator.validate_timestamp_and_nonce
    key = DEMO_CREDENTIALS.consumer_key
    for n in range(20_000):  # more than any threshold: all within the window
        clock[0] += 0.01
        assert seen(key, "", f"n{n}", None)
    assert not seen(key, "", "n0", None) and not seen(key, "", "n19999", None)
    clock[0] += 2 * 300 - 100  # n0 .. about n9999 are now older than two windows
    assert seen(key, "", "fresh", None)
    assert len(validator._nonces) < 11_000
    assert not seen(key, "", "n19999", None)
    assert seen(key, "", "n0", None)  # forgotten, as its timestamp could not pass any more
