#!/usr/bin/env bash
# Start the portal with its embedded defaults: migrate, demo data once, the NetSuite sandbox, the
# django-q2 cluster and the web server. Ctrl-C stops all of them.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-8000}
SANDBOX_PORT=${SANDBOX_PORT:-8765}
SHOPIFY_SANDBOX_PORT=${SHOPIFY_SANDBOX_PORT:-8766}
VAR=${PORTAL_VAR_DIR:-var}
export PORTAL_VAR_DIR=$VAR
export NETSUITE_SANDBOX_URL=${NETSUITE_SANDBOX_URL:-http://127.0.0.1:$SANDBOX_PORT}
export SHOPIFY_SANDBOX_URL=${SHOPIFY_SANDBOX_URL:-http://127.0.0.1:$SHOPIFY_SANDBOX_PORT}
export PORTAL_URL=${PORTAL_URL:-http://$HOST:$PORT}
mkdir -p "$VAR/log"
# Keys of this install: a random SECRET_KEY and encryption key in $VAR on first run (mode 0600), unless given.
$PY -m integration_portal.keys --var-dir "$VAR"

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
  # The sandbox's SFTP home is the demo user's home inside the portal's local folder (sftpsync demo_setup):
  # it writes the historical file there once at start and runs its SuiteScripts over it every 60 s.
  $PY -m netsuite_sandbox serve --host 127.0.0.1 --port "$SANDBOX_PORT" --data-dir "$VAR/sandbox" \
    --seed-historical 200 --file-root "$VAR/sftp-home/home/demo" --script-interval 60 >"$VAR/log/sandbox.log" 2>&1 &
  pids+=($!)
fi

if [ -d shopify_sandbox ]; then
  # A shop that keeps changing (a new customer, an update, now and then a B2B company) every few seconds and
  # sends webhooks to the portal once seed_demo has subscribed it; failed deliveries are retried after 5 s, 10 s…
  $PY -m shopify_sandbox serve --host 127.0.0.1 --port "$SHOPIFY_SANDBOX_PORT" --data-dir "$VAR/shopify-sandbox" \
    --generate-every "${SHOPIFY_CHANGE_EVERY:-8}" --retry-base 5 >"$VAR/log/shopify-sandbox.log" 2>&1 &
  pids+=($!)
  # seed_demo subscribes the portal's webhooks: wait until the sandbox answers.
  $PY -c 'import sys, time, urllib.request
for _ in range(100):
    try:
        urllib.request.urlopen(sys.argv[1] + "/_sandbox/health", timeout=1)
        break
    except OSError:
        time.sleep(0.1)' "$SHOPIFY_SANDBOX_URL"
fi

$PY manage.py seed_demo --if-empty --customers "${DEMO_CUSTOMERS:-500}" | tee "$VAR/log/seed.log"
$PY manage.py qcluster >"$VAR/log/qcluster.log" 2>&1 &
pids+=($!)

login=$(tail -n 1 "$VAR/log/seed.log")
cat <<MSG

  Customer sync portal: http://$HOST:$PORT/admin/
  $login
  NetSuite sandbox:     $NETSUITE_SANDBOX_URL   (log: $VAR/log/sandbox.log)
  Shopify sandbox:      $SHOPIFY_SANDBOX_URL   (log: $VAR/log/shopify-sandbox.log)
  django-q2 cluster:    running                 (log: $VAR/log/qcluster.log)

MSG
$PY manage.py runserver --noreload "$HOST:$PORT"
