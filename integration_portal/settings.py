"""Settings for the customer sync portal, read from the environment with working defaults.

Embedded defaults (no environment at all): a SQLite file under ./var, django-q2 on its ORM broker,
DEBUG off. ``DATABASE_URL`` switches the database (e.g. PostgreSQL), ``REDIS_URL`` switches the
django-q2 broker to Redis. ``DJANGO_SETTINGS_MODULE=integration_portal.settings_production`` adds the
hardening that ``manage.py check --deploy`` asks for.
"""

from datetime import timedelta
from pathlib import Path

import environ

from .keys import ENCRYPTION_KEY_FILE, SECRET_KEY_FILE, read_key

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("PORTAL_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env.bool("DEBUG", default=False)
# The repository's key only lets a fresh checkout run its tests and checks: `make run` writes a random key into
# var/secret_key on first run, and the production profile refuses this one (so does `check --deploy`).
DEFAULT_SECRET_KEY = "insecure-local-only-key-set-SECRET_KEY-in-production"  # noqa: S105 (public on purpose)
SECRET_KEY = env.str("SECRET_KEY", default="") or read_key(VAR_DIR, SECRET_KEY_FILE) or DEFAULT_SECRET_KEY
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# Fernet key(s) for secrets at rest, comma-separated, newest first (rotation: manage.py rotate_secrets).
# Unset: the key `make run` wrote into var/encryption_key. Never derived from SECRET_KEY.
PORTAL_ENCRYPTION_KEY = env.str("PORTAL_ENCRYPTION_KEY", default="") or read_key(VAR_DIR, ENCRYPTION_KEY_FILE)

# HTTPS ends at a reverse proxy that sets X-Forwarded-Proto and X-Forwarded-For: only then are they believed.
BEHIND_PROXY = env.bool("BEHIND_PROXY", default=False)
if BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Sessions: a working day by default, not Django's two weeks.
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 3600)
SESSION_EXPIRE_AT_BROWSER_CLOSE = env.bool("SESSION_EXPIRE_AT_BROWSER_CLOSE", default=False)

# Orders API tokens: how long a new one lives, and the most it may.
PORTAL_API_TOKEN_DAYS = env.int("PORTAL_API_TOKEN_DAYS", default=90)
PORTAL_API_TOKEN_MAX_DAYS = env.int("PORTAL_API_TOKEN_MAX_DAYS", default=365)

INSTALLED_APPS = [
    "integration_portal.apps.PortalAdminConfig",
    "django.contrib.auth",
    "axes",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_q",
    "import_export",
    "customers",
    "jobs",
    "netsuite",
    "sftpsync",
    "shopify",
    "console",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "integration_portal.middleware.RejectNulBytes",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a lockout into the login page that explains it.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "integration_portal.urls"
WSGI_APPLICATION = "integration_portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'portal.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let the web server and the django-q2 workers share the file.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True
# One date format across the console, in local time (TIME_ZONE): 2026-11-30 14:05.
FORMAT_MODULE_PATH = ["integration_portal.formats"]

STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
if env.bool("PORTAL_TESTING", default=False):
    STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
WHITENOISE_USE_FINDERS = True

REDIS_URL = env.str("REDIS_URL", default="")
Q_CLUSTER = {
    "name": env.str("Q_CLUSTER_NAME", default="portal"),
    "workers": env.int("Q_WORKERS", default=2),
    # A job may run long (a million-row file); timeout must stay below retry or a task runs twice.
    "timeout": env.int("Q_TIMEOUT", default=3600),
    "retry": env.int("Q_RETRY", default=3700),
    "max_attempts": 1,
    "queue_limit": 50,
    "catch_up": False,
    "save_limit": 1000,
    "label": "Django Q2",
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"

# Shopify webhooks still waiting this long after they came in are applied by the sweep job (a lost task).
SHOPIFY_SWEEP_AFTER_SECONDS = env.int("SHOPIFY_SWEEP_AFTER_SECONDS", default=30)

# A running job writes a heartbeat this often; a run silent for JOB_STALE_SECONDS counts as interrupted
# (its process was killed or its machine stopped), unless this machine can see that the process still runs.
JOB_HEARTBEAT_SECONDS = env.float("JOB_HEARTBEAT_SECONDS", default=10)
JOB_STALE_SECONDS = env.float("JOB_STALE_SECONDS", default=120)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    # Credentials never reach a log line, at any level (integration_portal/log_redaction.py).
    "filters": {"redact_secrets": {"()": "integration_portal.log_redaction.RedactSecrets"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact_secrets"]}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # At DEBUG both log the signed request: consumer key, token ID, signature. Silenced, and redacted above.
        "oauthlib": {"level": "WARNING"},
        "requests_oauthlib": {"level": "WARNING"},
        "httpx": {"level": "WARNING"},
    },
}

LOGIN_URL = "admin:login"

# Failure digests (console.alerts): Django's email, the console backend by default; e.g.
# EMAIL_URL=smtp+tls://user:password@mail.example.com:587 for SMTP (django-environ's email URL).
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Customer sync portal <portal@localhost>")
# Where operators reach the console, for the links in emails.
PORTAL_BASE_URL = env.str("PORTAL_BASE_URL", default="http://127.0.0.1:8000")
IMPORT_EXPORT_SKIP_ADMIN_LOG = False
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "change"
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "view"
# No IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT: it strips one leading "="; every column of every export goes through
# integration_portal.spreadsheet instead (customers.resources).

# Login throttling (django-axes): after LOGIN_FAILURE_LIMIT wrong passwords for one user name from one address,
# that pair is locked out for LOGIN_LOCKOUT_MINUTES; the login page says so, and whom to ask.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# Another try while locked out does not start the wait again (the page says until when).
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "integration_portal.login.lockout_response"
AXES_CLIENT_IP_CALLABLE = "integration_portal.login.client_ip"
PORTAL_SUPPORT_CONTACT = env.str("PORTAL_SUPPORT_CONTACT", default="your portal administrator")
