#!/bin/sh
# Entry point of the Strata image: `strata dataplane` (one deployment), `strata web` (the
# control plane's API and gateway), `strata worker` / `strata beat` (Celery), `strata migrate`,
# `strata healthcheck` (exit 0 when the local server is ready); anything else is run as given.
set -eu
export PATH="/opt/strata/venv/bin:$PATH" PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
export HOME="${HOME:-/tmp}"
cd /opt/strata/app
cmd=${1:-dataplane}
[ $# -gt 0 ] && shift
case "$cmd" in
dataplane) exec python -m dataplane serve --host 0.0.0.0 "$@" ;;
# Sync messages through the gateway up to 64 MiB (controlplane/provisioning/gateway.py).
web) exec python -m daphne -b 0.0.0.0 -p "${STRATA_WEB_PORT:-8000}" \
    --websocket-max-message-size 67108864 --websocket-max-frame-size 67108864 \
    "$@" controlplane.asgi:application ;;
worker) exec celery -A controlplane.celery worker --loglevel INFO "$@" ;;
beat) exec celery -A controlplane.celery beat --loglevel INFO --schedule /tmp/celerybeat-schedule "$@" ;;
migrate) exec python manage.py migrate --noinput "$@" ;;
healthcheck)
    url=${1:-http://127.0.0.1:${STRATA_DP_PORT:-3210}/readyz}
    exec python -c 'import sys, urllib.request
try:
    sys.exit(0 if urllib.request.urlopen(sys.argv[1], timeout=5).status == 200 else 1)
except Exception:
    sys.exit(1)' "$url" ;;
*) exec "$cmd" "$@" ;;
esac
