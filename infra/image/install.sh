#!/bin/sh
# Runs inside the image's root filesystem as root (Dockerfile RUN or chroot from
# scripts/build-rootfs) once the Debian packages, /usr/local/bin/node, the source at
# /opt/strata/app and its node_modules are in place. $1 is a directory of wheels holding the
# requirements.txt they were built from (infra/image/requirements.py); nothing is fetched here.
set -eu
WHEELS=$1
APP=/opt/strata/app
VENV=/opt/strata/venv

python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet --no-cache-dir --no-index --find-links "$WHEELS" \
    -r "$WHEELS/requirements.txt"
"$VENV/bin/python" -m compileall -q "$APP/contract" "$APP/controlplane" "$APP/dataplane" >/dev/null
ln -sf "$APP/infra/image/entrypoint.sh" /usr/local/bin/strata

# The unprivileged user every process runs as (the Kubernetes manifests use the same ids).
if ! getent group strata >/dev/null; then groupadd --system --gid 10001 strata; fi
if ! getent passwd strata >/dev/null; then
    useradd --system --uid 10001 --gid 10001 --home-dir /tmp --no-create-home \
        --shell /usr/sbin/nologin strata
fi
install -d -o 10001 -g 10001 -m 0750 /data
# Trimmed: no apt lists, docs or caches in the image.
rm -rf /var/lib/apt/lists/* /var/cache/apt/* /usr/share/doc/* /usr/share/man/* /root/.cache
