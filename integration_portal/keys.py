"""Keys that belong to the install: a random SECRET_KEY and a Fernet PORTAL_ENCRYPTION_KEY in var/.

``make run`` (scripts/run.sh) runs ``python -m integration_portal.keys`` before anything else: on the first run it
writes ``var/secret_key`` and ``var/encryption_key`` (mode 0600) unless the environment gives the key; later runs
keep them. Settings read them when the environment gives no key. No Django import here: it runs before settings.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from pathlib import Path

SECRET_KEY_FILE = "secret_key"  # noqa: S105 (a file name)
ENCRYPTION_KEY_FILE = "encryption_key"


def read_key(var_dir: Path, name: str) -> str:
    """Return the key kept in ``var_dir/name``, or '' when there is none."""
    try:
        return (var_dir / name).read_text().strip()
    except FileNotFoundError:
        return ""


def _write_private(path: Path, value: str) -> None:
    # Created with mode 0600 from the start (never readable by others, not even for a moment), and never replaced.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")


def keys_ensure(var_dir: Path, environ: dict[str, str] | None = None) -> list[str]:
    """Write the keys the environment does not give and ``var_dir`` does not hold yet; return the files written."""
    from cryptography.fernet import Fernet

    environ = os.environ if environ is None else environ
    var_dir.mkdir(parents=True, exist_ok=True)
    wanted = {
        SECRET_KEY_FILE: ("SECRET_KEY", lambda: secrets.token_urlsafe(50)),
        ENCRYPTION_KEY_FILE: ("PORTAL_ENCRYPTION_KEY", lambda: Fernet.generate_key().decode()),
    }
    written = []
    for name, (variable, make) in wanted.items():
        if environ.get(variable) or (var_dir / name).exists():
            continue
        _write_private(var_dir / name, make())
        written.append(str(var_dir / name))
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write this install's SECRET_KEY and encryption key into var/.")
    parser.add_argument("--var-dir", default=os.environ.get("PORTAL_VAR_DIR", "var"))
    args = parser.parse_args(argv)
    for path in keys_ensure(Path(args.var_dir)):
        print(f"Wrote a new key to {path} (mode 0600); keep it with the database, it is needed to read the secrets.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
