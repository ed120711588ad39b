"""Backups: where the control plane keeps deployment snapshots, and how long it waits for them."""

from django.core.exceptions import ImproperlyConfigured

from .env import DATA_DIR, env, integer

# "local" (files under STRATA_BACKUP_DIR) or "s3://bucket/prefix" (with the usual AWS_* and
# STRATA_BACKUP_S3_ENDPOINT_URL for S3-protocol servers other than AWS).
STRATA_BACKUP_STORE = env.str("STRATA_BACKUP_STORE", default="local").strip()
if STRATA_BACKUP_STORE != "local" and not STRATA_BACKUP_STORE.startswith("s3://"):
    raise ImproperlyConfigured(
        f"STRATA_BACKUP_STORE must be 'local' or 's3://bucket/prefix', not {STRATA_BACKUP_STORE!r}"
    )
if STRATA_BACKUP_STORE.startswith("s3://") and not STRATA_BACKUP_STORE[5:].strip("/"):
    raise ImproperlyConfigured("STRATA_BACKUP_STORE=s3://... needs a bucket name")
STRATA_BACKUP_DIR = env.str("STRATA_BACKUP_DIR", default=str(DATA_DIR / "backups"))
STRATA_BACKUP_S3_ENDPOINT_URL = env.str("STRATA_BACKUP_S3_ENDPOINT_URL", default="")
# How long one snapshot export or import may run before the job gives up.
STRATA_BACKUP_TIMEOUT_SECONDS = integer("STRATA_BACKUP_TIMEOUT_SECONDS", 3600, minimum=1)
# How often the in-process loop (no Celery beat) looks for scheduled backups that are due.
STRATA_BACKUP_CHECK_SECONDS = integer("STRATA_BACKUP_CHECK_SECONDS", 300, minimum=1)
