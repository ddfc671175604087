"""The client's exceptions, and how a NetSuite error answer (or an async task's failed result) becomes one.

Codes are NetSuite's own (``o:errorCode``: ``INVALID_LOGIN``, ``USER_ERROR``, ``UNEXPECTED_ERROR`` ...) when NetSuite
gave one; the client's own codes say what happened on the way: ``TIMEOUT`` (no answer in time), ``NETWORK_ERROR``
(no connection: nothing was sent), ``CONNECTION_DROPPED`` (the connection closed after the request was sent: NetSuite
may have done it), ``HTTP_<status>`` (an answer without a code).
"""

from __future__ import annotations

import email.utils
import re
import time
from collections.abc import Mapping
from typing import Any

TIMEOUT = "TIMEOUT"
NETWORK_ERROR = "NETWORK_ERROR"
CONNECTION_DROPPED = "CONNECTION_DROPPED"
UNKNOWN_HOST = "UNKNOWN_HOST"
TLS_ERROR = "TLS_ERROR"
REQUEST_FAILED = "REQUEST_FAILED"
MALFORMED_RESPONSE = "MALFORMED_RESPONSE"
MISSING_LOCATION = "MISSING_LOCATION"
INVALID_EXTERNAL_ID = "INVALID_EXTERNAL_ID"
IDEMPOTENCY_ERROR = "IDEMPOTENCY_ERROR"


class NetSuiteError(Exception):
    """A NetSuite call that failed; ``code`` is NetSuite's error code (or ours), ``message`` is for operators."""

    retryable = False

    def __init__(
        self, code: str, message: str, *, status: int | None = None, detail: str = "", location: str = ""
    ) -> None:
        self.code = code
        self.message = message
        self.status = status
        self.detail = detail
        # The Location header of the answer, when it had one (an IDEMPOTENCY_ERROR names the first job there).
        self.location = location
        super().__init__(f"{code}: {message}")


class AuthError(NetSuiteError):
    """NetSuite refused the credentials (INVALID_LOGIN) or the role lacks a permission."""


class NotFound(NetSuiteError):
    """The record does not exist in NetSuite."""


class ValidationError(NetSuiteError):
    """NetSuite refused the record's content (USER_ERROR, NONEXISTENT_ID, ...)."""


class RetryableError(NetSuiteError):
    """A failure that may pass on a later attempt: 429, 5xx, timeouts, network errors."""

    retryable = True

    def __init__(self, code: str, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(code, message, **kwargs)
        self.retry_after = retry_after


class BadResponse(NetSuiteError):
    """NetSuite answered something the contract does not allow (not JSON, no Location header, ...)."""


CAUSES = {
    "INVALID_LOGIN": (
        "NetSuite refused the login. Check the account ID, the consumer key and secret, the token ID and "
        "secret, and that the token's role may use REST Web Services."
    ),
    "NONEXISTENT_ID": (
        "NetSuite refers to a record that does not exist. Usually the customer, or its parent company, is "
        "missing in NetSuite: push the parent company first, or check the subsidiary, terms, price level and "
        "sales rep IDs in the connection's mappings."
    ),
    "SSS_REQUEST_LIMIT_EXCEEDED": (
        "NetSuite's concurrency limit was exceeded. Lower the connection's concurrency share if other "
        "integrations use the same account."
    ),
    "CONCURRENCY_LIMIT_EXCEEDED": (
        "NetSuite's concurrency limit was exceeded. Lower the connection's concurrency share if other "
        "integrations use the same account."
    ),
}


def _operator_message(code: str, detail: str, status: int) -> str:
    cause = CAUSES.get(code)
    if cause and detail:
        return f"{cause} (NetSuite said: {detail})"
    if cause:
        return cause
    if detail:
        return f"NetSuite refused the request ({code}, HTTP {status}): {detail}"
    return f"NetSuite refused the request ({code}, HTTP {status})."


def snippet(text: str, limit: int = 200) -> str:
    text = re.sub(r"<[^>]+>", " ", text)
    text = " ".join(text.split())
    return text[:limit] + ("…" if len(text) > limit else "")


def _parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def error_from_answer(
    status: int, body: Any, *, text: str = "", headers: Mapping[str, str] | None = None
) -> NetSuiteError:
    """Turn a NetSuite error answer (its status, decoded JSON body or None, raw text and headers) into the project's
    exception, with its code and an operator message. A failed async task's result is read the same way."""
    headers = headers or {}
    code, detail = "", ""
    if isinstance(body, dict):
        details = body.get("o:errorDetails") or []
        if isinstance(details, list) and details and isinstance(details[0], dict):
            code = str(details[0].get("o:errorCode") or "")
            detail = "; ".join(str(d.get("detail", "")) for d in details if isinstance(d, dict) and d.get("detail"))
        detail = detail or str(body.get("title") or body.get("detail") or "")
    elif text:
        detail = f"not a NetSuite error answer ({headers.get('Content-Type', 'no content type')}): " + snippet(text)

    extra: dict[str, Any] = {"status": status, "detail": detail, "location": headers.get("Location", "")}
    retry_after = _parse_retry_after(headers.get("Retry-After"))
    if status == 429 or code in ("SSS_REQUEST_LIMIT_EXCEEDED", "CONCURRENCY_LIMIT_EXCEEDED"):
        code = code or "CONCURRENCY_LIMIT_EXCEEDED"
        return RetryableError(code, _operator_message(code, detail, status), retry_after=retry_after, **extra)
    if status >= 500:
        # NetSuite's own code (UNEXPECTED_ERROR ...) is kept: the portal's internal errors have codes of their own.
        code = code or f"HTTP_{status}"
        message = f"NetSuite had a server error (HTTP {status}); the call is retried."
        if detail:
            message += f" NetSuite said: {detail}"
        return RetryableError(code, message, retry_after=retry_after, **extra)
    if status in (401, 403) or code == "INVALID_LOGIN":
        code = code or ("INVALID_LOGIN" if status == 401 else "INSUFFICIENT_PERMISSION")
        return AuthError(code, _operator_message(code, detail, status), **extra)
    if status == 404:
        code = code or "NOT_FOUND"
        message = (
            f"The record does not exist in NetSuite ({code}). It may have been deleted there, or the link to it "
            "is wrong: check the customer's NetSuite internal ID."
        )
        return NotFound(code, message + (f" NetSuite said: {detail}" if detail else ""), **extra)
    code = code or f"HTTP_{status}"
    return ValidationError(code, _operator_message(code, detail, status), **extra)
