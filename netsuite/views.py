"""The orders endpoint: is a customer in NetSuite, and make it so (bearer token auth, JSON).

    GET  /api/netsuite/customers/<customer_id>/presence
         → 200 {"customerId", "present", "internalId", "status", "message"}
    POST /api/netsuite/customers/<customer_id>/ensure
         → the same after pushing the customer (and its parent company) when needed; 409 when it could not be

``customer_id`` is the portal customer ID or the NetSuite internal ID. Send ``Authorization: Bearer <token>``
with a token created under NetSuite REST → Orders API tokens (only its SHA-256 is stored). A token belongs to one
connection and answers for that connection only: ``?connection=<code, name or account ID>`` may name it (an order
system that talks to several portals' connections can check it reached the right one), never another one.
"""

from __future__ import annotations

import hmac
from datetime import timedelta

from django.db.models import Q
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from customers.dispatch import CONNECTION_INACTIVE
from integration_portal.best_effort import write_without_waiting

from . import selectors, services
from .models import ApiToken, NetSuiteConnection, hash_token

# last_used_at is bookkeeping: written at most this often per token, so reads do not queue behind writes.
LAST_USED_PRECISION = timedelta(minutes=1)
MAX_PARAMETER_LENGTH = 200


class ApiRefused(Exception):
    """The request cannot be answered; carries the HTTP status, an error code and a sentence for the caller."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _error(status: int, code: str, message: str) -> JsonResponse:
    response = JsonResponse({"error": code, "message": message}, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="netsuite"'
    return response


def _touch(token: ApiToken) -> None:
    """Record when the token was used, to the minute, if the database can take the write at once."""
    now = timezone.now()
    if token.last_used_at is not None and now - token.last_used_at < LAST_USED_PRECISION:
        return
    stale = Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_PRECISION)
    write_without_waiting(
        lambda: ApiToken.objects.filter(stale, pk=token.pk).update(last_used_at=now),
        what=f"recording when orders API token {token.pk} was last used",
    )


def _authenticate(request: HttpRequest) -> ApiToken:
    header = request.headers.get("Authorization", "")
    scheme, _, raw = header.partition(" ")
    refused = ApiRefused(401, "UNAUTHORIZED", "Send a valid API token as 'Authorization: Bearer <token>'.")
    if scheme.lower() != "bearer" or not raw.strip():
        raise refused
    digest = hash_token(raw.strip())
    token = (
        ApiToken.objects.select_related("connection__external_system").filter(key_hash=digest, is_active=True).first()
    )
    if token is None or not hmac.compare_digest(token.key_hash, digest):
        raise refused
    if token.is_expired:
        raise ApiRefused(
            401,
            "TOKEN_EXPIRED",
            f"This API token expired on {timezone.localtime(token.expires_at):%Y-%m-%d %H:%M}: ask the portal's "
            "operators for a new one.",
        )
    if token.connection is None:
        raise ApiRefused(
            401,
            "TOKEN_UNBOUND",
            "This API token was made before tokens belonged to one connection: ask the portal's operators for a new "
            "one.",
        )
    _touch(token)
    return token


def _names(connection: NetSuiteConnection, value: str) -> bool:
    system = connection.external_system
    return value.casefold() in {system.code.casefold(), system.name.casefold(), connection.account_id.casefold()}


def _connection(request: HttpRequest, token: ApiToken) -> NetSuiteConnection:
    """The token's connection; ``?connection=`` may only name that one, and a switched-off one answers nothing."""
    connection = token.connection
    asked = request.GET.get("connection", "")
    if asked and (len(asked) > MAX_PARAMETER_LENGTH or not _names(connection, asked)):
        raise ApiRefused(
            403,
            "WRONG_CONNECTION",
            f"This token belongs to the connection {connection.external_system.code} and answers for it only; "
            "leave out ?connection= or ask for a token of the other connection.",
        )
    if not (connection.is_active and connection.external_system.is_active):
        raise ApiRefused(
            403,
            CONNECTION_INACTIVE,
            f"The NetSuite connection {connection.external_system.code} is switched off in the portal: ask its "
            "operators to switch it on.",
        )
    return connection


def _resolve(request: HttpRequest, customer_id: str):
    token = _authenticate(request)
    connection = _connection(request, token)
    customer = selectors.customer_by_any_id(value=customer_id) if len(customer_id) <= MAX_PARAMETER_LENGTH else None
    if customer is None:
        raise ApiRefused(404, "UNKNOWN_CUSTOMER", f"No customer with ID {customer_id[:100]} in the portal.")
    return connection, customer


@require_GET
def customer_presence(request: HttpRequest, customer_id: str) -> JsonResponse:
    try:
        connection, customer = _resolve(request, customer_id)
    except ApiRefused as exc:
        return _error(exc.status, exc.code, exc.message)
    return JsonResponse(services.customer_presence(customer=customer, connection=connection).as_json())


@csrf_exempt
@require_POST
def customer_ensure(request: HttpRequest, customer_id: str) -> JsonResponse:
    try:
        connection, customer = _resolve(request, customer_id)
    except ApiRefused as exc:
        return _error(exc.status, exc.code, exc.message)
    presence = services.customer_ensure_in_netsuite(customer=customer, connection=connection)
    return JsonResponse(presence.as_json(), status=200 if presence.present else 409)
