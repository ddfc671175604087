"""The sandbox's Admin GraphQL API over HTTP: token, errors with HTTP 200, cost and throttling, paging."""

from __future__ import annotations

import requests

from shopify_sandbox import ShopifySandbox


def post(
    sandbox: ShopifySandbox, query: str, variables: dict | None = None, token: str | None = None, version="2025-10"
):
    return requests.post(
        f"{sandbox.admin_api_url}/{version}/graphql.json",
        json={"query": query, "variables": variables or {}},
        headers={"X-Shopify-Access-Token": sandbox.access_token if token is None else token},
        timeout=10,
    )


def test_a_wrong_token_is_401(shopify_sandbox):
    response = post(shopify_sandbox, "{ shop { name } }", token="shpat_wrong")
    assert response.status_code == 401
    assert "Invalid API key or access token" in response.json()["errors"]


def test_an_unknown_field_is_an_error_with_http_200(shopify_sandbox):
    response = post(shopify_sandbox, "{ shop { name nonsense } }")
    assert response.status_code == 200
    body = response.json()
    assert "data" not in body
    assert "Cannot query field 'nonsense' on type 'Shop'" in body["errors"][0]["message"]


def test_a_connection_needs_first_as_shopify_says(shopify_sandbox):
    body = post(shopify_sandbox, "{ customers { nodes { id } } }").json()
    assert body["errors"][0]["message"] == "you must provide one of first or last"


def test_cost_and_throttle_status_are_in_the_extensions(shopify_sandbox):
    shopify_sandbox.seed_customers(3)
    body = post(shopify_sandbox, "{ customers(first: 10) { edges { node { id firstName } } } }").json()
    assert len(body["data"]["customers"]["edges"]) == 3
    cost = body["extensions"]["cost"]
    # A connection: 2 + first x (1 per node).
    assert cost["requestedQueryCost"] == 12
    assert cost["throttleStatus"] == {"maximumAvailable": 2000.0, "currentlyAvailable": 1988, "restoreRate": 100.0}


def test_an_empty_bucket_answers_throttled_with_http_200(shopify_sandbox):
    shopify_sandbox.configure(max_available=30, restore_rate=1)
    query = "{ customers(first: 20) { nodes { id } } }"  # costs 22
    assert "data" in post(shopify_sandbox, query).json()
    response = post(shopify_sandbox, query)
    assert response.status_code == 200
    body = response.json()
    assert body["errors"][0]["extensions"]["code"] == "THROTTLED"
    assert body["extensions"]["cost"]["actualQueryCost"] is None
    assert body["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] < 22


def test_a_query_over_the_single_query_limit_is_refused(shopify_sandbox):
    body = post(
        shopify_sandbox, "{ companies(first: 250) { nodes { locations(first: 250) { nodes { id } } } } }"
    ).json()
    assert body["errors"][0]["extensions"]["code"] == "MAX_COST_EXCEEDED"


def test_pages_follow_end_cursor(shopify_sandbox):
    shopify_sandbox.seed_customers(5)
    seen, after = [], None
    while True:
        page = post(
            shopify_sandbox,
            "query p($after: String) { customers(first: 2, after: $after) { nodes { id } "
            "pageInfo { hasNextPage endCursor } } }",
            {"after": after},
        ).json()["data"]["customers"]
        seen += [n["id"] for n in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen)) == 5


def test_webhook_subscriptions_are_created_listed_and_refused_twice(shopify_sandbox):
    create = (
        "mutation c($topic: WebhookSubscriptionTopic!, $sub: WebhookSubscriptionInput!) { webhookSubscriptionCreate("
        "topic: $topic, webhookSubscription: $sub) { webhookSubscription { id topic uri } "
        "userErrors { field message } } }"
    )
    variables = {"topic": "CUSTOMERS_CREATE", "sub": {"uri": "https://portal.example/api/shopify/webhooks"}}
    first = post(shopify_sandbox, create, variables).json()["data"]["webhookSubscriptionCreate"]
    assert first["userErrors"] == [] and first["webhookSubscription"]["topic"] == "CUSTOMERS_CREATE"
    again = post(shopify_sandbox, create, variables).json()["data"]["webhookSubscriptionCreate"]
    assert again["webhookSubscription"] is None
    assert again["userErrors"][0]["message"] == "Address for this topic has already been taken"
    listed = post(shopify_sandbox, "{ webhookSubscriptions(first: 10) { nodes { id uri } } }").json()
    assert [n["uri"] for n in listed["data"]["webhookSubscriptions"]["nodes"]] == [variables["sub"]["uri"]]
    bad = post(shopify_sandbox, create, {"topic": "NOT_A_TOPIC", "sub": {"uri": "https://x"}}).json()
    assert "NOT_A_TOPIC" in bad["errors"][0]["message"]
