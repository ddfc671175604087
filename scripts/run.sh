#!/usr/bin/env bash
# Start the portal with its embedded defaults: migrate, demo data once, the NetSuite and Shopify sandboxes, the
# django-q2 cluster and the web server. Ctrl-C (or SIGTERM) stops all of them within a few seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-8000}
SANDBOX_PORT=${SANDBOX_PORT:-8765}
SHOPIFY_SANDBOX_PORT=${SHOPIFY_SANDBOX_PORT:-8766}
VAR=${PORTAL_VAR_DIR:-var}
# Seconds the parts get to stop after SIGTERM before they are killed.
STOP_GRACE=${STOP_GRACE:-3}
export PORTAL_VAR_DIR=$VAR
export NETSUITE_SANDBOX_URL=${NETSUITE_SANDBOX_URL:-http://127.0.0.1:$SANDBOX_PORT}
export SHOPIFY_SANDBOX_URL=${SHOPIFY_SANDBOX_URL:-http://127.0.0.1:$SHOPIFY_SANDBOX_PORT}
export PORTAL_URL=${PORTAL_URL:-http://$HOST:$PORT}
# The links in failure digests (sent by the cluster) point at this web server unless told otherwise.
export PORTAL_BASE_URL=${PORTAL_BASE_URL:-$PORTAL_URL}
mkdir -p "$VAR/log"
# Keys of this install: a random SECRET_KEY and encryption key in $VAR on first run (mode 0600), unless given.
$PY -m integration_portal.keys --var-dir "$VAR"

# Each part runs in a process group of its own, and stopping signals the whole group: django-q2's cluster
# otherwise lets a busy worker finish its task first (its Sentinel.stop waits for every worker without a
# limit, and the workers ignore SIGINT), so Ctrl-C during a long job waited as long as the job. A job
# stopped halfway is safe: it resumes where it was on its next run, and its run shows as interrupted.
groups=()
start() {
  # Not a process-group leader (no job control here), so setsid execs in place: $! is the group's ID.
  setsid "$@" &
  groups+=("$!")
}
alive() {
  # alive leaders|others: whether any group still has its leader, or any other member, running.
  local group pid
  for group in "${groups[@]}"; do
    for pid in $(pgrep -g "$group" 2>/dev/null); do
      if [ "$1" = leaders ] && [ "$pid" = "$group" ] || [ "$1" = others ] && [ "$pid" != "$group" ]; then
        [ "$(ps -o stat= -p "$pid" 2>/dev/null | cut -c1)" = Z ] || return 0
      fi
    done
  done
  return 1
}
wait_while() {
  local tries=$(($2 * 5))
  while alive "$1" && [ "$tries" -gt 0 ]; do
    sleep 0.2
    tries=$((tries - 1))
  done
}
stop_all() {
  trap - EXIT
  [ -z "${watcher:-}" ] || kill "$watcher" 2>/dev/null || true
  # Nothing may cut the stop short: not a second Ctrl-C, nor a terminal or a pipe that went away (`make run | tee
  # run.log`: Ctrl-C ends tee first, and a message written to its pipe would end this script under set -e, or
  # by SIGPIPE, and leave every part running).
  trap '' INT TERM HUP PIPE
  set +e
  [ ${#groups[@]} -gt 0 ] || return 0
  echo "Stopping the web server, the sandboxes and the job cluster..." >&2
  local group pid
  # The leaders' children first: the cluster's sentinel and workers die at SIGTERM, and its main process,
  # which only waits for the sentinel, then exits by itself. Signalled together, the main process could
  # hang: its handler sets the stop event, whose notify waits for the killed sentinel to wake up.
  for group in "${groups[@]}"; do
    for pid in $(pgrep -g "$group" 2>/dev/null); do
      [ "$pid" = "$group" ] || kill -TERM "$pid" 2>/dev/null || true
    done
  done
  wait_while others 1
  for group in "${groups[@]}"; do kill -TERM "$group" 2>/dev/null || true; done
  wait_while leaders "$STOP_GRACE"
  for group in "${groups[@]}"; do kill -KILL -- "-$group" 2>/dev/null || true; done
  wait 2>/dev/null || true
  echo "Stopped." >&2
}
trap stop_all EXIT
trap 'stop_all; exit 130' INT
trap 'stop_all; exit 143' TERM
trap 'stop_all; exit 129' HUP

$PY manage.py migrate --noinput -v0
$PY manage.py collectstatic --noinput -v0

if [ -d netsuite_sandbox ]; then
  # The sandbox's SFTP home is the demo user's home inside the portal's local folder (sftpsync demo_setup makes
  # every folder there: HotWax's scripts make none). It generates the historical file once at start and runs its
  # scheduled SuiteScripts every 60 s (upload the historical file, import exports, write created IDs).
  start $PY -m netsuite_sandbox serve --host 127.0.0.1 --port "$SANDBOX_PORT" --data-dir "$VAR/sandbox" \
    --seed-historical 200 --file-root "$VAR/sftp-home/home/demo" --script-interval 60 >"$VAR/log/sandbox.log" 2>&1
fi

if [ -d shopify_sandbox ]; then
  # A shop that keeps changing (a new customer, an update, now and then a B2B company) every few seconds and
  # sends webhooks to the portal once seed_demo has subscribed it; failed deliveries are retried after 5 s, 10 s…
  start $PY -m shopify_sandbox serve --host 127.0.0.1 --port "$SHOPIFY_SANDBOX_PORT" --data-dir "$VAR/shopify-sandbox" \
    --generate-every "${SHOPIFY_CHANGE_EVERY:-8}" --retry-base 5 >"$VAR/log/shopify-sandbox.log" 2>&1
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
start $PY manage.py qcluster >"$VAR/log/qcluster.log" 2>&1

login=$(tail -n 1 "$VAR/log/seed.log")
cat <<MSG

  Customer sync portal: http://$HOST:$PORT/admin/
  $login
  NetSuite sandbox:     $NETSUITE_SANDBOX_URL   (log: $VAR/log/sandbox.log)
  Shopify sandbox:      $SHOPIFY_SANDBOX_URL   (log: $VAR/log/shopify-sandbox.log)
  django-q2 cluster:    running                 (log: $VAR/log/qcluster.log)

  Press Ctrl-C to stop all of them. To start again from scratch: make reset, then make run.

MSG
start $PY manage.py runserver --noreload "$HOST:$PORT"
# Whatever started this script may end without a signal to it: `make run` ended by SIGTERM (a process manager,
# `timeout make run`) dies alone, as make passes no signal on to its recipe. Then this script is adopted by
# another process, and the watcher ends.
parent=$PPID
watch_parent() {
  while [ "$(ps -o ppid= -p $$ | tr -d ' ')" = "$parent" ]; do sleep 1; done
}
watch_parent &
watcher=$!
# wait returns when the web server exits, the watcher ends or a signal arrives; then the EXIT or signal trap stops
# the rest.
wait -n "${groups[-1]}" "$watcher"
