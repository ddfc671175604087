"""Refuse, with a clear 400, requests carrying a NUL character: no field, filter or ID of the portal holds one.

PostgreSQL rejects NUL in text ("A string literal cannot contain NUL") deep inside a query, which would surface as
a 500; refusing them here answers every filter, search box and API parameter the same plain way.
"""

from __future__ import annotations

from django.http import HttpResponse, JsonResponse

MESSAGE = (
    "The request contains a NUL character (%00), which no field, filter or ID of the portal can hold. "
    "Remove it and try again."
)
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _has_nul(request) -> bool:
    if "\x00" in request.path or "%00" in request.META.get("QUERY_STRING", ""):
        return True
    if any("\x00" in key or any("\x00" in v for v in values) for key, values in request.GET.lists()):
        return True
    if request.method == "POST" and request.content_type in FORM_TYPES:
        if request.content_type == FORM_TYPES[0]:
            # Read (and keep) the raw body first: a view that reads request.body (a webhook's signature) still can.
            _ = request.body
        # Form fields only: uploaded files may be binary (the import checks their content itself).
        return any("\x00" in key or any("\x00" in v for v in values) for key, values in request.POST.lists())
    return False


class RejectNulBytes:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if _has_nul(request):
            if request.path.startswith("/api/"):
                return JsonResponse({"error": "BAD_REQUEST", "message": MESSAGE}, status=400)
            return HttpResponse(MESSAGE, status=400, content_type="text/plain; charset=utf-8")
        return self.get_response(request)
