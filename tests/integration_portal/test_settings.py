"""Settings switch on the environment: DATABASE_URL picks the database, REDIS_URL the django-q2 broker."""

import json
import os
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]
PROBE = (
    "import json, os, django; from django.conf import settings; django.setup(); "
    "from django_q.brokers import get_broker; "
    "print(json.dumps({'engine': settings.DATABASES['default']['ENGINE'], "
    "'name': str(settings.DATABASES['default']['NAME']), 'host': settings.DATABASES['default'].get('HOST', ''), "
    "'q': sorted(k for k in ('orm', 'redis') if k in settings.Q_CLUSTER), "
    "'broker': type(get_broker()).__name__ if os.environ.get('PROBE_BROKER') else '', "
    "'debug': settings.DEBUG, 'secret_key': settings.SECRET_KEY, 'encryption_key': settings.PORTAL_ENCRYPTION_KEY, "
    "'proxy_header': getattr(settings, 'SECURE_PROXY_SSL_HEADER', None), 'session_age': settings.SESSION_COOKIE_AGE, "
    "'browser_close': settings.SESSION_EXPIRE_AT_BROWSER_CLOSE}))"
)


# Variables the probes start without, so that each test says what it sets.
UNSET = ("DATABASE_URL", "REDIS_URL", "DEBUG", "SECRET_KEY", "PORTAL_ENCRYPTION_KEY", "BEHIND_PROXY")
PRODUCTION_SECRET_KEY = "a" * 20 + "-production-secret-key-with-enough-entropy-9f8e7d6c5b4a"


def probe(env: dict[str, str], module: str = "integration_portal.settings") -> dict:
    clean = {k: v for k, v in os.environ.items() if k not in UNSET}
    clean.update({"DJANGO_SETTINGS_MODULE": module, **env})
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=clean, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_embedded_defaults_are_sqlite_orm_broker_and_no_debug(tmp_path):
    found = probe({"PORTAL_VAR_DIR": str(tmp_path), "PROBE_BROKER": "1"})
    assert found["engine"] == "django.db.backends.sqlite3"
    assert found["name"] == str(tmp_path / "portal.sqlite3")
    assert (found["q"], found["broker"], found["debug"]) == (["orm"], "ORM", False)


def test_database_url_switches_to_postgresql():
    found = probe({"DATABASE_URL": "postgres://portal@db.example:5432/portal"})
    assert found["engine"] == "django.db.backends.postgresql"
    assert (found["name"], found["host"]) == ("portal", "db.example")


def test_redis_url_switches_the_broker():
    found = probe({"REDIS_URL": "redis://127.0.0.1:6379/3", "PROBE_BROKER": "1"})
    assert (found["q"], found["broker"]) == (["redis"], "Redis")


def test_debug_only_when_asked():
    assert probe({"DEBUG": "true"})["debug"] is True


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in UNSET}
    clean.update(env)
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=clean, capture_output=True, text=True)


def production(**changes: str) -> dict[str, str]:
    return {
        "DJANGO_SETTINGS_MODULE": "integration_portal.settings_production",
        "SECRET_KEY": PRODUCTION_SECRET_KEY,
        "PORTAL_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "ALLOWED_HOSTS": "portal.example.com",
        **changes,
    }


def test_production_profile_passes_check_deploy():
    out = manage(production(), "check", "--deploy", "--fail-level", "WARNING")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "no issues" in out.stdout


def test_production_profile_refuses_to_start_without_secret_key():
    env = production()
    env.pop("SECRET_KEY")
    out = manage(env, "check")
    assert out.returncode != 0
    assert "SECRET_KEY" in out.stderr


def test_production_profile_refuses_the_repository_key_and_an_empty_encryption_key():
    from integration_portal.settings import DEFAULT_SECRET_KEY

    out = manage(production(SECRET_KEY=DEFAULT_SECRET_KEY), "check", "--deploy")
    assert out.returncode != 0
    assert "SECRET_KEY is the repository's public key" in out.stderr
    out = manage(production(PORTAL_ENCRYPTION_KEY=""), "check", "--deploy")
    assert out.returncode != 0
    assert "PORTAL_ENCRYPTION_KEY is empty" in out.stderr


def test_check_deploy_fails_on_the_repository_key_and_a_missing_encryption_key(tmp_path):
    out = manage({"PORTAL_VAR_DIR": str(tmp_path)}, "check", "--deploy")
    assert out.returncode != 0
    assert "portal.E001" in out.stderr and "SECRET_KEY is the repository's public key" in out.stderr
    assert "portal.E002" in out.stderr
    out = manage({"PORTAL_VAR_DIR": str(tmp_path), "PORTAL_ENCRYPTION_KEY": "not-a-key"}, "check", "--deploy")
    assert "portal.E003" in out.stderr


def test_keys_are_made_once_for_the_install_and_read_from_var(tmp_path):
    from integration_portal.keys import keys_ensure

    written = keys_ensure(tmp_path, environ={})
    assert sorted(Path(p).name for p in written) == ["encryption_key", "secret_key"]
    for name in ("secret_key", "encryption_key"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o600
    secret, key = (tmp_path / "secret_key").read_text().strip(), (tmp_path / "encryption_key").read_text().strip()
    Fernet(key.encode())  # a valid Fernet key
    assert keys_ensure(tmp_path, environ={}) == []  # kept on later runs
    found = probe({"PORTAL_VAR_DIR": str(tmp_path)})
    assert (found["secret_key"], found["encryption_key"]) == (secret, key)
    # A key from the environment wins, and none is written for it.
    other = tmp_path / "other"
    assert keys_ensure(other, environ={"SECRET_KEY": "given"}) == [str(other / "encryption_key")]
    found = probe({"PORTAL_VAR_DIR": str(tmp_path), "SECRET_KEY": "from-the-environment"})
    assert found["secret_key"] == "from-the-environment"


def test_without_keys_there_is_no_encryption_key_and_the_public_secret_key(tmp_path):
    from integration_portal.settings import DEFAULT_SECRET_KEY

    found = probe({"PORTAL_VAR_DIR": str(tmp_path)})
    assert (found["secret_key"], found["encryption_key"]) == (DEFAULT_SECRET_KEY, "")


def test_proxy_and_session_settings_come_from_the_environment(tmp_path):
    found = probe({"PORTAL_VAR_DIR": str(tmp_path)})
    assert found["proxy_header"] is None
    assert (found["session_age"], found["browser_close"]) == (8 * 3600, False)
    found = probe(
        {
            "PORTAL_VAR_DIR": str(tmp_path),
            "BEHIND_PROXY": "true",
            "SESSION_COOKIE_AGE": "600",
            "SESSION_EXPIRE_AT_BROWSER_CLOSE": "true",
        }
    )
    assert found["proxy_header"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert (found["session_age"], found["browser_close"]) == (600, True)
