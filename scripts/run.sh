#!/usr/bin/env bash
# Start the portal with its embedded defaults: migrate, demo data once, the NetSuite sandbox, the
# django-q2 cluster and the web server. Ctrl-C stops all of them.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-8000}
SANDBOX_PORT=${SANDBOX_PORT:-8765}
VAR=${PORTAL_VAR_DIR:-var}
export PORTAL_VAR_DIR=$VAR
export NETSUITE_SANDBOX_URL=${NETSUITE_SANDBOX_URL:-http://127.0.0.1:$SANDBOX_PORT}
mkdir -p "$VAR/log"

pids=()
cleanup() {
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

$PY manage.py migrate --noinput -v0
$PY manage.py collectstatic --noinput -v0

if [ -d netsuite_sandbox ]; then
  # The sandbox's SFTP home is the demo user's home inside the portal's local folder (sftpsync demo_setup makes
  # every folder there: HotWax's scripts make none). It generates the historical file once at start and runs its
  # scheduled SuiteScripts every 60 s (upload the historical file, import exports, write created IDs).
  $PY -m netsuite_sandbox serve --host 127.0.0.1 --port "$SANDBOX_PORT" --data-dir "$VAR/sandbox" \
    --seed-historical 200 --file-root "$VAR/sftp-home/home/demo" --script-interval 60 >"$VAR/log/sandbox.log" 2>&1 &
  pids+=($!)
fi

$PY manage.py seed_demo --if-empty --customers "${DEMO_CUSTOMERS:-500}" | tee "$VAR/log/seed.log"
$PY manage.py qcluster >"$VAR/log/qcluster.log" 2>&1 &
pids+=($!)

login=$(tail -n 1 "$VAR/log/seed.log")
cat <<MSG

  Customer sync portal: http://$HOST:$PORT/admin/
  $login
  NetSuite sandbox:     $NETSUITE_SANDBOX_URL   (log: $VAR/log/sandbox.log)
  django-q2 cluster:    running                 (log: $VAR/log/qcluster.log)

MSG
$PY manage.py runserver --noreload "$HOST:$PORT"
