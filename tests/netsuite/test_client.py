"""The REST client against the sandbox over HTTP: signing, errors, retries (no database)."""

from __future__ import annotations

import dataclasses

import pytest

from netsuite.client import (
    AuthError,
    BadResponse,
    NetSuiteClient,
    NetSuiteConfig,
    NetSuiteError,
    NotFound,
    RetryableError,
    ValidationError,
    account_realm,
    default_base_url,
)
from netsuite_sandbox import NetSuiteSandbox

PERSON = {"isPerson": True, "firstName": "Ada", "lastName": "Lovelace", "subsidiary": {"id": "1"}}


@pytest.fixture
def config(netsuite_sandbox: NetSuiteSandbox) -> NetSuiteConfig:
    return NetSuiteConfig(
        account_id=netsuite_sandbox.account_id,
        consumer_key=netsuite_sandbox.consumer_key,
        consumer_secret=netsuite_sandbox.consumer_secret,
        token_id=netsuite_sandbox.token_id,
        token_secret=netsuite_sandbox.token_secret,
        base_url=netsuite_sandbox.base_url,
        timeout=2,
        backoff_base=0.01,
        retry_after_max=0.05,
    )


@pytest.fixture
def client(config: NetSuiteConfig) -> NetSuiteClient:
    return NetSuiteClient(config)


def test_base_url_and_realm_follow_the_account_id():
    assert default_base_url("1234567_SB1") == "https://1234567-sb1.suitetalk.api.netsuite.com/services/rest"
    assert account_realm("1234567-sb1") == "1234567_SB1"


def test_secrets_never_appear_in_repr(config: NetSuiteConfig, client: NetSuiteClient):
    for text in (repr(config), repr(client)):
        assert config.consumer_secret not in text
        assert config.token_secret not in text
        assert config.token_id not in text


def test_signed_requests_with_query_parameters_are_accepted(client: NetSuiteClient, netsuite_sandbox):
    netsuite_sandbox.seed_customers(3)
    page = client.suiteql_page("SELECT id FROM customer ORDER BY id", limit=2, offset=0)
    assert [row["id"] for row in page.items] == ["1", "2"]
    assert page.has_more is True
    assert page.total == 3


def test_upsert_by_external_id_returns_the_internal_id_and_repeats_safely(client: NetSuiteClient, netsuite_sandbox):
    first = client.upsert_customer("C1", PERSON)
    again = client.upsert_customer("C1", {**PERSON, "email": "ada@example.com"})
    assert first.internal_id == again.internal_id
    assert netsuite_sandbox.count_customers(external_id="C1") == 1
    assert client.get_customer(first.internal_id)["email"] == "ada@example.com"


@pytest.mark.parametrize("field", ["consumer_key", "consumer_secret", "token_id", "token_secret", "account_id"])
def test_any_wrong_credential_or_realm_is_a_clear_auth_error(config: NetSuiteConfig, field: str):
    wrong = dataclasses.replace(config, **{field: "1111111" if field == "account_id" else "wrong-value"})
    with pytest.raises(AuthError) as caught:
        NetSuiteClient(wrong).suiteql_page("SELECT id FROM customer", limit=1)
    assert caught.value.code == "INVALID_LOGIN"
    assert "Check the account ID, the consumer key and secret, the token ID and secret" in caught.value.message
    assert "wrong-value" not in caught.value.message


def test_429_is_retried_honouring_retry_after(client: NetSuiteClient, netsuite_sandbox):
    netsuite_sandbox.configure(throttle_next=2, retry_after=1)
    sleeps: list[float] = []
    client._sleep = sleeps.append
    assert client.upsert_customer("C2", PERSON).internal_id
    assert netsuite_sandbox.stats["responses_by_status"]["429"] == 2
    assert len(sleeps) == 2
    # Retry-After (1 s) is honoured up to the configured cap (0.05 s in tests).
    assert all(s >= 0.05 for s in sleeps)


def test_server_errors_are_retried_three_times_then_raised(client: NetSuiteClient, netsuite_sandbox):
    netsuite_sandbox.configure(fail_next=10, error_status=503)
    with pytest.raises(RetryableError) as caught:
        client.upsert_customer("C3", PERSON)
    assert netsuite_sandbox.stats["total_requests"] == 4
    assert caught.value.status == 503
    assert "Gave up after 4 attempts" in caught.value.message
    assert netsuite_sandbox.count_customers() == 0


def test_waits_grow_between_retries(client: NetSuiteClient, netsuite_sandbox):
    netsuite_sandbox.configure(fail_next=10)
    sleeps: list[float] = []
    client._sleep = sleeps.append
    with pytest.raises(RetryableError):
        client.suiteql_page("SELECT id FROM customer", limit=1)
    floors = [client.config.backoff_base * (n + 1) / 2 for n in range(3)]
    assert len(sleeps) == 3
    assert all(s >= f for s, f in zip(sleeps, floors, strict=True))


def test_nonexistent_parent_explains_the_usual_cause(client: NetSuiteClient):
    with pytest.raises(ValidationError) as caught:
        client.upsert_customer("C4", {**PERSON, "parent": {"id": "999"}})
    assert caught.value.code == "NONEXISTENT_ID"
    assert "parent company, is missing in NetSuite" in caught.value.message


def test_missing_record_is_not_found(client: NetSuiteClient):
    with pytest.raises(NotFound):
        client.update_customer("424242", {"email": "x@example.com"})


def test_netsuite_validation_error_keeps_its_detail(client: NetSuiteClient):
    with pytest.raises(ValidationError) as caught:
        client.upsert_customer("C5", {"isPerson": True, "firstName": "Ada", "subsidiary": {"id": "1"}})
    assert caught.value.code == "USER_ERROR"
    assert "Last Name" in caught.value.message


def test_external_id_with_other_characters_is_refused_before_sending(client: NetSuiteClient, netsuite_sandbox):
    with pytest.raises(ValidationError) as caught:
        client.upsert_customer("C 6/x", PERSON)
    assert caught.value.code == "INVALID_EXTERNAL_ID"
    assert netsuite_sandbox.stats["total_requests"] == 0


def test_malformed_json_answer_is_a_clear_error(client: NetSuiteClient, netsuite_sandbox):
    netsuite_sandbox.configure(malformed="json", malformed_count=1)
    with pytest.raises(BadResponse) as caught:
        client.suiteql_page("SELECT id FROM customer", limit=1)
    assert caught.value.code == "MALFORMED_RESPONSE"
    assert "not valid JSON" in caught.value.message


def test_html_error_page_is_retried_and_described(client: NetSuiteClient, netsuite_sandbox):
    netsuite_sandbox.configure(malformed="html")
    with pytest.raises(RetryableError) as caught:
        client.upsert_customer("C7", PERSON)
    assert caught.value.status == 502
    assert "not a NetSuite error answer (text/html)" in caught.value.message
    assert "502 Bad Gateway" in caught.value.message
    assert "<html>" not in caught.value.message


def test_missing_location_is_a_clear_error(client: NetSuiteClient, netsuite_sandbox):
    netsuite_sandbox.configure(malformed="no_location", malformed_count=1)
    with pytest.raises(BadResponse) as caught:
        client.upsert_customer("C8", PERSON)
    assert caught.value.code == "MISSING_LOCATION"
    assert "sent again on the next run" in caught.value.message


def test_unknown_error_code_is_passed_on_with_its_detail(client: NetSuiteClient, netsuite_sandbox):
    netsuite_sandbox.configure(malformed="unknown_error", malformed_count=1)
    with pytest.raises(NetSuiteError) as caught:
        client.upsert_customer("C9", PERSON)
    assert caught.value.code == "SANDBOX_UNHEARD_OF_ERROR"
    assert "Something the client has never seen went wrong" in caught.value.message


def test_answer_lost_after_commit_is_repeated_without_a_duplicate(client: NetSuiteClient, netsuite_sandbox):
    netsuite_sandbox.configure(timeout_after_commit=1, timeout_mode="hold", hold_seconds=5)
    client = NetSuiteClient(dataclasses.replace(client.config, timeout=0.5))
    result = client.upsert_customer("C10", PERSON)
    assert netsuite_sandbox.count_customers(external_id="C10") == 1
    assert netsuite_sandbox.stats["requests_by_route"]["PUT /record/v1/customer/eid:{externalId}"] == 2
    assert result.internal_id == netsuite_sandbox.customers_by_external_id("C10")[0]["id"]


def test_unknown_host_says_to_check_the_account_id(config: NetSuiteConfig):
    client = NetSuiteClient(dataclasses.replace(config, base_url="http://no-such-account.invalid/services/rest"))
    with pytest.raises(NetSuiteError) as caught:
        client.suiteql_page("SELECT id FROM customer", limit=1)
    assert caught.value.code in ("UNKNOWN_HOST", "NETWORK_ERROR")
    assert "no-such-account.invalid" in caught.value.message


def test_refused_connection_is_a_network_error(config: NetSuiteConfig):
    client = NetSuiteClient(dataclasses.replace(config, base_url="http://127.0.0.1:9/services/rest", max_retries=0))
    with pytest.raises(RetryableError) as caught:
        client.suiteql_page("SELECT id FROM customer", limit=1)
    assert caught.value.code == "NETWORK_ERROR"


def test_keyset_paging_reaches_past_the_offset_limit(client: NetSuiteClient, netsuite_sandbox):
    netsuite_sandbox.seed_customers(2500)
    seen: list[str] = []

    def build(after: int | None) -> str:
        return "SELECT id FROM customer" + (f" WHERE id > {after}" if after else "") + " ORDER BY id"  # noqa: S608 (an integer)

    for page in client.suiteql_keyset(build, limit=1000):
        seen += [row["id"] for row in page.items]
    assert len(seen) == 2500
    assert len(set(seen)) == 2500


def test_a_timeout_is_mandatory(config: NetSuiteConfig):
    with pytest.raises(ValueError):
        NetSuiteClient(dataclasses.replace(config, timeout=0))
