"""The orders endpoint: is a customer in NetSuite, and make it so (bearer token auth, JSON).

    GET  /api/netsuite/customers/<customer_id>/presence
         → 200 {"customerId", "present", "internalId", "status", "message"}
    POST /api/netsuite/customers/<customer_id>/ensure
         → the same after pushing the customer (and its parent company) when needed; 409 when it could not be

``customer_id`` is the portal customer ID or the NetSuite internal ID. Send ``Authorization: Bearer <token>``
with a token created under NetSuite REST → Orders API tokens (only its SHA-256 is stored). With several
NetSuite connections, add ``?connection=<external system code>``.
"""

from __future__ import annotations

import hmac

from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from . import selectors, services
from .models import ApiToken, hash_token


def _authenticate(request: HttpRequest) -> ApiToken | None:
    header = request.headers.get("Authorization", "")
    scheme, _, raw = header.partition(" ")
    if scheme.lower() != "bearer" or not raw.strip():
        return None
    digest = hash_token(raw.strip())
    token = ApiToken.objects.filter(key_hash=digest, is_active=True).first()
    if token is None or not hmac.compare_digest(token.key_hash, digest):
        return None
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    return token


def _error(status: int, code: str, message: str) -> JsonResponse:
    response = JsonResponse({"error": code, "message": message}, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="netsuite"'
    return response


def _resolve(request: HttpRequest, customer_id: str):
    if _authenticate(request) is None:
        return None, None, _error(401, "UNAUTHORIZED", "Send a valid API token as 'Authorization: Bearer <token>'.")
    try:
        connection = selectors.connection_get(name=request.GET.get("connection") or None)
    except selectors.ConnectionNotFound as exc:
        return None, None, _error(404, "NO_CONNECTION", str(exc))
    customer = selectors.customer_by_any_id(value=customer_id)
    if customer is None:
        return None, None, _error(404, "UNKNOWN_CUSTOMER", f"No customer with ID {customer_id} in the portal.")
    return connection, customer, None


@require_GET
def customer_presence(request: HttpRequest, customer_id: str) -> JsonResponse:
    connection, customer, error = _resolve(request, customer_id)
    if error:
        return error
    return JsonResponse(services.customer_presence(customer=customer, connection=connection).as_json())


@csrf_exempt
@require_POST
def customer_ensure(request: HttpRequest, customer_id: str) -> JsonResponse:
    connection, customer, error = _resolve(request, customer_id)
    if error:
        return error
    presence = services.customer_ensure_in_netsuite(customer=customer, connection=connection)
    return JsonResponse(presence.as_json(), status=200 if presence.present else 409)
