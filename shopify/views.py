"""The webhook endpoint: ``POST /api/shopify/webhooks`` for every topic (the shop from X-Shopify-Shop-Domain).

200 once the delivery is verified and kept (or was kept already: a duplicate), 401 when its HMAC does not verify
(nothing is kept), 405 for anything but POST. See ``shopify.services.inbox``.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .services import webhook_receive


@csrf_exempt
@require_POST
def webhooks(request: HttpRequest) -> HttpResponse:
    receipt = webhook_receive(headers=request.headers, body=request.body, url=request.build_absolute_uri())
    return HttpResponse(receipt.message, status=receipt.status, content_type="text/plain; charset=utf-8")
