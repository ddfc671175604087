"""SFTP transfer speed: SftpTransport (paramiko) against OpenSSH's sftp client on the same loopback sshd.

Run as root on a machine with openssh-server installed:

    .venv/bin/python bench/sftp_transfer.py [--mb 200] [--rounds 3] [--write-results]

Each round times a full upload and a full download (connection set-up included, for both clients) of the
same random file; the best round of each counts. Target: each ratio (ours / OpenSSH speed) at least 0.5.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sftpsync.transport import SftpConfig, SftpTransport  # noqa: E402
from tests.sftpsync.conftest import SftpServerInfo, _keygen, _openssh_server, _openssh_usable  # noqa: E402

TARGET = 0.5
SECTION = "## SFTP transfer"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def _ours(info: SftpServerInfo, src: Path, dst: Path, remote_folder: str, name: str) -> tuple[float, float]:
    config = SftpConfig(
        host=info.host, port=info.port, username=info.user, private_key=info.private_key, host_key=info.host_key_line
    )
    start = time.perf_counter()
    with SftpTransport(config) as t:
        t.upload_atomic(src, remote_folder, name)
    up = time.perf_counter() - start
    start = time.perf_counter()
    with SftpTransport(config) as t:
        t.download(f"{remote_folder}/{name}", dst)
    down = time.perf_counter() - start
    return up, down


def _openssh(info: SftpServerInfo, workdir: Path, command: str) -> float:
    batch = workdir / "batch"
    batch.write_text(command + "\n")
    args = [
        "sftp", "-q", "-b", str(batch), "-i", str(info.private_key_path), "-P", str(info.port),
        "-o", f"UserKnownHostsFile={info.known_hosts_path}", "-o", "StrictHostKeyChecking=yes",
        "-o", "BatchMode=yes", f"{info.user}@{info.host}",
    ]  # fmt: skip
    start = time.perf_counter()
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def _write_results(text: str) -> None:
    results = ROOT / "bench" / "RESULTS.md"
    current = results.read_text() if results.exists() else "# Benchmark results\n"
    start = current.find(SECTION)
    if start == -1:
        current = current.rstrip("\n") + "\n\n" + text
    else:
        end = current.find("\n## ", start + len(SECTION))
        current = current[:start] + text + (current[end + 1 :] if end != -1 else "")
    results.write_text(current.rstrip("\n") + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=200, help="file size in MB (default 200)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds; the best of each counts (default 3)")
    parser.add_argument("--write-results", action="store_true", help="update the section in bench/RESULTS.md")
    args = parser.parse_args()
    if not _openssh_usable():
        print("This bench needs root and /usr/sbin/sshd (apt-get install openssh-server).", file=sys.stderr)
        return 2

    workdir = Path(tempfile.mkdtemp(prefix="sftp-bench-"))
    keys = {
        "ed25519": _keygen(workdir / "client_ed25519", "ed25519"),
        "rsa": _keygen(workdir / "client_rsa", "rsa", "correct horse", "3072"),
        "ecdsa": _keygen(workdir / "client_ecdsa", "ecdsa", "", "256"),
    }
    src = workdir / "payload.bin"
    with open(src, "wb") as f:
        for _ in range(args.mb):
            f.write(os.urandom(1 << 20))
    size_mb = args.mb * 1.048576  # MB of 10^6 bytes
    digest = _sha256(src)
    ours_up, ours_down, ssh_up, ssh_down = [], [], [], []
    with _openssh_server(workdir, keys) as info:
        folder = f"{info.remote_home}/bench"
        (info.home / "bench").mkdir()
        os.chown(info.home / "bench", info.home.stat().st_uid, info.home.stat().st_gid)
        for n in range(args.rounds):
            up, down = _ours(info, src, workdir / "ours.bin", folder, f"ours-{n}.bin")
            assert _sha256(workdir / "ours.bin") == digest, "download differs from the upload"
            ours_up.append(up)
            ours_down.append(down)
            ssh_up.append(_openssh(info, workdir, f"put {src} {folder}/openssh-{n}.bin"))
            ssh_down.append(_openssh(info, workdir, f"get {folder}/openssh-{n}.bin {workdir}/openssh.bin"))
            print(
                f"round {n + 1}: upload ours {up:.2f}s openssh {ssh_up[-1]:.2f}s; "
                f"download ours {down:.2f}s openssh {ssh_down[-1]:.2f}s"
            )
            for f in (info.home / "bench").iterdir():
                f.unlink()

    up_ratio = min(ssh_up) / min(ours_up)
    down_ratio = min(ssh_down) / min(ours_down)
    rows = [
        ("upload", min(ours_up), min(ssh_up), up_ratio),
        ("download", min(ours_down), min(ssh_down), down_ratio),
    ]
    lines = [
        f"| {what} | {o:.2f} s ({size_mb / o:.0f} MB/s) | {s:.2f} s ({size_mb / s:.0f} MB/s) | "
        f"{r:.2f} | {'ok' if r >= TARGET else 'BELOW TARGET'} |"
        for what, o, s, r in rows
    ]
    for line in lines:
        print(line)
    ok = up_ratio >= TARGET and down_ratio >= TARGET
    if args.write_results:
        sshd_version = subprocess.run(["/usr/sbin/sshd", "-V"], capture_output=True, text=True).stderr.strip()
        _write_results(
            f"""{SECTION}

A {args.mb} MiB random file over loopback to OpenSSH sshd (internal-sftp), best of {args.rounds} rounds,
connection set-up included for both clients; ratio = OpenSSH's time / ours (target ≥ {TARGET}).

Command: `.venv/bin/python bench/sftp_transfer.py --mb {args.mb} --rounds {args.rounds} --write-results` (as root)

Machine: {platform.platform()}, {os.cpu_count()} CPUs (load average {os.getloadavg()[0]:.1f} at the end), Python
{platform.python_version()}, {sshd_version.split(",")[0]}. Loopback figures swing with other load on the machine;
the ratio is what counts, and both clients run in the same rounds.

| transfer | SftpTransport | OpenSSH `sftp -b` | ratio | |
| --- | --- | --- | --- | --- |
{chr(10).join(lines)}
"""
        )
        print("Written to bench/RESULTS.md")
    shutil.rmtree(workdir, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
