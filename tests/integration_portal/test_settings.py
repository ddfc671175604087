"""Settings switch on the environment: DATABASE_URL picks the database, REDIS_URL the django-q2 broker."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBE = (
    "import json, os, django; from django.conf import settings; django.setup(); "
    "from django_q.brokers import get_broker; "
    "print(json.dumps({'engine': settings.DATABASES['default']['ENGINE'], "
    "'name': str(settings.DATABASES['default']['NAME']), 'host': settings.DATABASES['default'].get('HOST', ''), "
    "'q': sorted(k for k in ('orm', 'redis') if k in settings.Q_CLUSTER), "
    "'broker': type(get_broker()).__name__ if os.environ.get('PROBE_BROKER') else '', "
    "'debug': settings.DEBUG}))"
)


def probe(env: dict[str, str], module: str = "integration_portal.settings") -> dict:
    clean = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "DEBUG")}
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


def test_production_profile_passes_check_deploy():
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "DEBUG")}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "integration_portal.settings_production",
            "SECRET_KEY": "a" * 20 + "-production-secret-key-with-enough-entropy-9f8e7d6c5b4a",
            "PORTAL_ENCRYPTION_KEY": "0" * 43 + "=",
            "ALLOWED_HOSTS": "portal.example.com",
        }
    )
    out = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "no issues" in out.stdout


def test_production_profile_refuses_to_start_without_secret_key():
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY",)}
    env["DJANGO_SETTINGS_MODULE"] = "integration_portal.settings_production"
    out = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert out.returncode != 0
    assert "SECRET_KEY" in out.stderr
