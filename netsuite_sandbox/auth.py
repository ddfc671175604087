"""Token-based authentication as NetSuite checks it, verified with oauthlib (no hand-written signing).

A request passes when its OAuth 1.0 Authorization header carries realm = the account ID exactly
(`1234567_SB1`), HMAC-SHA256 (HMAC-SHA1 and PLAINTEXT are refused), the configured consumer key and token ID,
a signature over the URL the client requested (query parameters included) made with the configured consumer
secret and token secret, a timestamp within the window, and a nonce not seen before. A nonce is spent even by
a request refused for another reason, so a client retrying must sign again rather than resend the same request.

A refusal is NetSuite's 401 INVALID_LOGIN; the sandbox adds an `X-Sandbox-Auth-Failure` header saying which check
failed (NetSuite says nothing more than its Login Audit Trail does), to help whoever debugs a client.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from oauthlib.oauth1 import RequestValidator, ResourceEndpoint
from oauthlib.oauth1.rfc5849 import SIGNATURE_HMAC_SHA256, utils

from .demo import Credentials

_SAFE = set(utils.UNICODE_ASCII_CHARACTER_SET) | set("-_.~")


@dataclass
class AuthResult:
    """The outcome of checking one request; `reason` says why it failed (the sandbox's hint, not NetSuite's)."""

    ok: bool
    reason: str = ""


class _Validator(RequestValidator):
    """Answer oauthlib's questions from the sandbox's one account, and remember nonces."""

    def __init__(self, credentials: Credentials, window: int) -> None:
        super().__init__()
        self.credentials = credentials
        self.window = window
        # Nonces seen, oldest first (in the order they came, which is time order).
        self._nonces: OrderedDict[tuple[str, str], float] = OrderedDict()
        self._lock = threading.Lock()
        self.local = threading.local()

    allowed_signature_methods = (SIGNATURE_HMAC_SHA256,)
    enforce_ssl = False
    dummy_client = "sandbox-dummy-client"
    dummy_access_token = "sandbox-dummy-token"  # noqa: S105 (a placeholder, never valid)

    @property
    def timestamp_lifetime(self) -> int:
        return self.window

    # NetSuite keys and tokens are 64 hex characters; oauthlib's defaults (20 to 30) would refuse them.
    def check_client_key(self, client_key: str) -> bool:
        return 0 < len(client_key) <= 256 and set(client_key) <= _SAFE

    def check_access_token(self, request_token: str) -> bool:
        return 0 < len(request_token) <= 256 and set(request_token) <= _SAFE

    def check_nonce(self, nonce: str) -> bool:
        return 0 < len(nonce) <= 256 and set(nonce) <= _SAFE

    def validate_client_key(self, client_key: str, request) -> bool:
        return client_key == self.credentials.consumer_key

    def validate_access_token(self, client_key: str, token: str, request) -> bool:
        return token == self.credentials.token_id

    def get_client_secret(self, client_key: str, request) -> str:
        if client_key == self.credentials.consumer_key:
            return self.credentials.consumer_secret
        return "sandbox-dummy-secret"

    def get_access_token_secret(self, client_key: str, token: str, request) -> str:
        if token == self.credentials.token_id:
            return self.credentials.token_secret
        return "sandbox-dummy-secret"

    def validate_realms(self, client_key, token, request, uri=None, realms=None) -> bool:
        return request.realm == self.credentials.account_id

    def validate_timestamp_and_nonce(
        self, client_key, timestamp, nonce, request, request_token=None, access_token=None
    ) -> bool:
        now = time.time()
        key = (client_key, nonce)
        with self._lock:
            # Nonces older than the window cannot come back: their timestamp would be refused anyway. (How long
            # NetSuite remembers a nonce is not documented; assumed: while its timestamp could still pass, which is
            # as strict as the window allows.) Only the oldest are looked at, so a request costs the same with 100
            # or 100,000 nonces in the window.
            while self._nonces and now - next(iter(self._nonces.values())) > 2 * self.window:
                self._nonces.popitem(last=False)
            if key in self._nonces:
                self.local.replayed = True
                return False
            self._nonces[key] = now
        return True

    def forget_nonces(self) -> None:
        with self._lock:
            self._nonces.clear()


class Authenticator:
    """Verify NetSuite token-based-auth requests against one account's credentials."""

    def __init__(self, credentials: Credentials, *, window: int = 300) -> None:
        self.credentials = credentials
        self.validator = _Validator(credentials, window)
        self.endpoint = ResourceEndpoint(self.validator)

    def reset(self) -> None:
        """Forget the nonces seen so far."""
        self.validator.forget_nonces()

    def verify(self, *, method: str, url: str, headers: dict[str, str]) -> AuthResult:
        """Check one request; `url` must be the absolute URL the client requested, query string included."""
        header = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
        if not header.lower().startswith("oauth "):
            return AuthResult(False, "missing OAuth Authorization header")
        try:
            params = dict(utils.parse_authorization_header(header))
        except ValueError:
            return AuthResult(False, "malformed Authorization header")
        method_name = params.get("oauth_signature_method", "")
        if method_name != SIGNATURE_HMAC_SHA256:
            return AuthResult(False, f"signature method {method_name or 'missing'}; only HMAC-SHA256 is accepted")
        try:
            age = abs(time.time() - int(params.get("oauth_timestamp", "")))
        except ValueError:
            return AuthResult(False, "timestamp is not a number")
        if age > self.validator.window:
            return AuthResult(False, f"timestamp differs from the server clock by over {self.validator.window} s")
        self.validator.local.replayed = False
        # The JSON body is not part of the signature (only form-encoded bodies are), so it is not passed.
        ok, request = self.endpoint.validate_protected_resource_request(
            url, http_method=method, body=None, headers=headers
        )
        if ok:
            return AuthResult(True)
        if self.validator.local.replayed:
            return AuthResult(False, "nonce already used")
        if request is None:
            return AuthResult(False, "malformed OAuth parameters")
        log = request.validator_log
        if not log:
            return AuthResult(False, "missing or malformed OAuth parameters")
        for key, reason in (
            ("client", "unknown consumer key"),
            ("resource_owner", "unknown token ID"),
            ("realm", f"realm is not the account ID {self.credentials.account_id}"),
            ("signature", "signature does not match"),
        ):
            if not log.get(key):
                return AuthResult(False, reason)
        return AuthResult(False, "refused")
