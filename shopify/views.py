"""The webhook endpoint: ``POST /api/shopify/webhooks`` for every topic (the shop from X-Shopify-Shop-Domain).

200 once the delivery is verified and kept (or was kept already: a duplicate), 401 when its HMAC does not verify
(nothing is kept), 405 for anything but POST. See ``shopify.services.inbox``.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.http.request import RawPostDataException
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .services import webhook_receive


@csrf_exempt
@require_POST
def webhooks(request: HttpRequest) -> HttpResponse:
    try:
        body = request.body
    except RawPostDataException:
        # A form was parsed before the view (a multipart post): that is no Shopify delivery, which is JSON.
        return HttpResponse(
            "Not a Shopify webhook: Shopify sends JSON, signed in X-Shopify-Hmac-Sha256.", status=401,
            content_type="text/plain; charset=utf-8",
        )  # fmt: skip
    receipt = webhook_receive(headers=request.headers, body=body, url=request.build_absolute_uri())
    return HttpResponse(receipt.message, status=receipt.status, content_type="text/plain; charset=utf-8")
