"""Helpers for the sandbox's own tests: a signed HTTP session and a customer body that passes validation."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from netsuite_sandbox import NetSuiteSandbox


@pytest.fixture
def sandbox(netsuite_sandbox: NetSuiteSandbox) -> NetSuiteSandbox:
    """Return the reset sandbox."""
    return netsuite_sandbox


@pytest.fixture
def ns(sandbox: NetSuiteSandbox) -> Iterator[requests.Session]:
    """Return a session signing every request as the sandbox's account, with a timeout."""
    session = requests.Session()
    session.auth = sandbox.oauth()
    yield session
    session.close()


@pytest.fixture
def rest(sandbox: NetSuiteSandbox, ns: requests.Session) -> Callable[..., requests.Response]:
    """Return a function calling a REST path under the sandbox's base URL."""

    def call(method: str, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", 10)
        return ns.request(method, sandbox.base_url + path, **kwargs)

    return call


@pytest.fixture
def suiteql(rest: Callable[..., requests.Response]) -> Callable[..., requests.Response]:
    """Return a function running a SuiteQL query with `Prefer: transient`."""

    def run(q: str, **params: Any) -> requests.Response:
        return rest("POST", "/query/v1/suiteql", params=params, json={"q": q}, headers={"Prefer": "transient"})

    return run


def person(**fields: Any) -> dict[str, Any]:
    """Build a person customer body that passes the sandbox's validation."""
    return {"isPerson": True, "firstName": "Ada", "lastName": "Lovelace", "subsidiary": {"id": "1"}, **fields}


def company(**fields: Any) -> dict[str, Any]:
    """Build a company customer body that passes the sandbox's validation."""
    return {"isPerson": False, "companyName": "Analytical Engines Ltd", "subsidiary": {"id": "2"}, **fields}


def error_code(response: requests.Response) -> str:
    """Return the first o:errorCode of a NetSuite error answer."""
    return response.json()["o:errorDetails"][0]["o:errorCode"]


def new_id(response: requests.Response) -> int:
    """Return the internal ID at the end of a 204's Location header."""
    assert response.status_code == 204, response.text
    return int(response.headers["Location"].rsplit("/", 1)[1])
