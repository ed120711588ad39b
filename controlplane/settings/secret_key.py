"""The control plane's SECRET_KEY: from STRATA_SECRET_KEY, else a key file kept under var/.

Development (the default STRATA_ENV) creates the key file on first start, readable by its owner
only (0600), and reuses it on every later start. Production never invents a key: it refuses to
start without one, or with a known or weak one, since whoever knows the key can forge
email-verification and password-reset tokens.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

# Keys that shipped as defaults somewhere: accepted by nobody in production.
KNOWN_INSECURE = frozenset({"dev-insecure-change-me", "change-me", "changeme", "secret"})
MIN_PRODUCTION_LENGTH = 32


def read_or_create_key_file(path: Path) -> str:
    """The key stored at `path`, generated (0600, atomically) if the file does not exist yet."""
    if path.exists():
        return _read(path)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(50) + "\n")
        # link() fails if another process created the file first: then its key wins.
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return _read(path)


def _read(path: Path) -> str:
    key = path.read_text().strip()
    if not key:
        raise ImproperlyConfigured(f"The secret key file {path} is empty")
    return key


def resolve_secret_key(configured: str, key_file: Path, *, production: bool) -> str:
    """The SECRET_KEY to use; raises ImproperlyConfigured with the fix when there is none."""
    if configured:
        key, source = configured, "STRATA_SECRET_KEY"
    elif key_file.exists():
        key, source = _read(key_file), f"the key file {key_file}"
    elif production:
        raise ImproperlyConfigured(
            "STRATA_ENV=production needs a secret key: set STRATA_SECRET_KEY to a random "
            f"value of at least {MIN_PRODUCTION_LENGTH} characters (for example the output of "
            "`python -c 'import secrets; print(secrets.token_urlsafe(50))'`), or create the "
            f"key file {key_file} (mode 0600)"
        )
    else:
        return read_or_create_key_file(key_file)
    if production:
        if key in KNOWN_INSECURE or key.startswith(("django-insecure", "dev-insecure")):
            raise ImproperlyConfigured(
                f"{source} holds a published default secret key; STRATA_ENV=production refuses "
                "it because anyone could forge verification and password-reset tokens with it. "
                "Set a random one."
            )
        if len(key) < MIN_PRODUCTION_LENGTH:
            raise ImproperlyConfigured(
                f"{source} is {len(key)} characters long; STRATA_ENV=production needs a random "
                f"secret key of at least {MIN_PRODUCTION_LENGTH} characters"
            )
    return key
