"""Production profile: the embedded settings plus the hardening ``check --deploy`` asks for.

It refuses to start without a key of its own: SECRET_KEY and PORTAL_ENCRYPTION_KEY must come from the environment,
SECRET_KEY must not be the repository's (public) key, and the encryption key must not be empty.
"""

from django.core.exceptions import ImproperlyConfigured

from .settings import *  # noqa: F403
from .settings import DEFAULT_SECRET_KEY, env

DEBUG = False
SECRET_KEY = env.str("SECRET_KEY")  # no default: refuse to start without a real key
if SECRET_KEY.strip() == DEFAULT_SECRET_KEY:
    raise ImproperlyConfigured(
        "SECRET_KEY is the repository's public key: set a random one of your own (e.g. "
        "python -c 'import secrets; print(secrets.token_urlsafe(50))')."
    )
PORTAL_ENCRYPTION_KEY = env.str("PORTAL_ENCRYPTION_KEY")
if not PORTAL_ENCRYPTION_KEY.strip():
    raise ImproperlyConfigured(
        "PORTAL_ENCRYPTION_KEY is empty: set the Fernet key(s) the stored secrets are encrypted with (generate one "
        "with python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')."
    )
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
