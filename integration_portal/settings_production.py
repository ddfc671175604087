"""Production profile: the embedded settings plus the hardening ``check --deploy`` asks for."""

from .settings import *  # noqa: F403
from .settings import env

DEBUG = False
SECRET_KEY = env.str("SECRET_KEY")  # no default: refuse to start without a real key
PORTAL_ENCRYPTION_KEY = env.str("PORTAL_ENCRYPTION_KEY")
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
