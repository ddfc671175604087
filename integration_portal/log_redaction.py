"""Keep credentials out of the logs, at every level.

``RedactSecrets`` is a logging filter (settings.LOGGING puts it on every handler). It masks:
- OAuth 1.0 parameters (``oauth_consumer_key``, ``oauth_token``, ``oauth_signature``, ...), as oauthlib and
  requests-oauthlib write them into the signed request they log at DEBUG;
- ``Authorization`` header values and bearer tokens (the orders API's tokens);
- every stored secret this process has decrypted or encrypted (``redact_value``, called by EncryptedTextField),
  wherever it appears: the NetSuite consumer key and secret, token ID and secret, SFTP passwords and keys.
"""

from __future__ import annotations

import logging
import re
import threading

MASK = "[redacted]"
# Shorter values are too likely to be ordinary words or numbers to be masked everywhere they appear.
MIN_SECRET_LENGTH = 8

_OAUTH = re.compile(r"""(oauth_[a-z_]+)(["']?\s*[=:,]\s*["']?)([^"'&,\s)]+)""", re.IGNORECASE)
_AUTH_HEADER = re.compile(r"""(authorization["']?\s*[:=]\s*["']?)([^"'\r\n]+)""", re.IGNORECASE)
_BEARER = re.compile(r"(bearer\s+)([A-Za-z0-9._~+/=-]+)", re.IGNORECASE)

_known: set[str] = set()
_known_lock = threading.Lock()


def redact_value(value: str) -> None:
    """Remember a secret so that no log line ever shows it."""
    if value and len(value) >= MIN_SECRET_LENGTH and value not in _known:
        with _known_lock:
            _known.add(value)
            # Multi-line secrets (private keys) are also masked line by line.
            _known.update(line for line in value.splitlines() if len(line.strip()) >= MIN_SECRET_LENGTH)


def redact(text: str) -> str:
    """Return the text with OAuth parameters, authorization headers, bearer tokens and known secrets masked."""
    text = _OAUTH.sub(lambda m: m.group(1) + m.group(2) + MASK, text)
    text = _AUTH_HEADER.sub(lambda m: m.group(1) + MASK, text)
    text = _BEARER.sub(lambda m: m.group(1) + MASK, text)
    for secret in sorted(_known, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, MASK)
    return text


class RedactSecrets(logging.Filter):
    """A logging filter that masks credentials in the message, its arguments and any exception text."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a record whose arguments do not format is passed on as it is
            return True
        cleaned = redact(message)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, ()
        return True
