"""NetSuite REST error bodies, shaped as NetSuite answers them."""

from __future__ import annotations

import json

_TYPES = {
    400: ("https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.1", "Bad Request"),
    401: ("https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.2", "Unauthorized"),
    404: ("https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.5", "Not Found"),
    405: ("https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.6", "Method Not Allowed"),
    429: ("https://www.rfc-editor.org/rfc/rfc6585.html#section-4", "Too Many Requests"),
    500: ("https://www.rfc-editor.org/rfc/rfc9110.html#section-15.6.1", "Internal Server Error"),
    502: ("https://www.rfc-editor.org/rfc/rfc9110.html#section-15.6.3", "Bad Gateway"),
    503: ("https://www.rfc-editor.org/rfc/rfc9110.html#section-15.6.4", "Service Unavailable"),
}

INVALID_LOGIN_DETAIL = (
    "Invalid login attempt. For more details, see the Login Audit Trail in the NetSuite UI at "
    "Setup > Users/Roles > User Management > View Login Audit Trail."
)
NONEXISTENT_ID_DETAIL = "The record instance does not exist. Provide a valid record instance ID."


class NetSuiteError(Exception):
    """An error that answers the request in NetSuite's error format."""

    def __init__(self, status: int, code: str, detail: str, *, path: str | None = None) -> None:
        super().__init__(f"{status} {code}: {detail}")
        self.status = status
        self.code = code
        self.detail = detail
        self.path = path

    def body(self) -> dict:
        """Return the JSON body NetSuite sends for this error."""
        return error_body(self.status, self.code, self.detail, path=self.path)


def error_body(status: int, code: str, detail: str, *, path: str | None = None) -> dict:
    """Build a NetSuite error body: type, title, status and o:errorDetails."""
    type_, title = _TYPES.get(status, ("https://www.rfc-editor.org/rfc/rfc9110.html", "Error"))
    item: dict = {"detail": detail}
    if path:
        item["o:errorPath"] = path
    item["o:errorCode"] = code
    return {"type": type_, "title": title, "status": status, "o:errorDetails": [item]}


def error_json(status: int, code: str, detail: str, *, path: str | None = None) -> bytes:
    """Serialise a NetSuite error body."""
    return json.dumps(error_body(status, code, detail, path=path)).encode()


def user_error(detail: str, *, path: str | None = None) -> NetSuiteError:
    """Build a 400 USER_ERROR."""
    return NetSuiteError(400, "USER_ERROR", detail, path=path)


def nonexistent(*, status: int = 404, path: str | None = None) -> NetSuiteError:
    """Build a NONEXISTENT_ID error (404 for a missing record, 400 for a missing referenced record)."""
    return NetSuiteError(status, "NONEXISTENT_ID", NONEXISTENT_ID_DETAIL, path=path)
