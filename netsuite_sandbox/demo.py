"""Demo account and credentials of the NetSuite sandbox, the one place they are defined.

These are fixed, well-known test values for a local simulator, not secrets: the portal's demo seeding
command may read them to pre-fill a connection that talks to `python -m netsuite_sandbox serve`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Credentials:
    """Token-based-auth credentials of one NetSuite account."""

    account_id: str
    consumer_key: str
    consumer_secret: str
    token_id: str
    token_secret: str


# Fixed simulator values, published on purpose so the demo works out of the box (positional: account ID,
# consumer key, consumer secret, token ID, token secret).
DEMO_CREDENTIALS = Credentials(
    "1234567_SB1",
    "sandbox-consumer-key-0123456789abcdef0123456789abcdef",
    "sandbox-consumer-secret-0123456789abcdef0123456789ab",
    "sandbox-token-id-0123456789abcdef0123456789abcdef0123",
    "sandbox-token-secret-0123456789abcdef0123456789abcd",
)

DEMO_PORT = 8765
DEMO_URL = f"http://127.0.0.1:{DEMO_PORT}/services/rest"
