"""The single django-environ reader shared by every settings module, and the validators that
turn a malformed value into one clear ImproperlyConfigured message (no traceback to decode)."""

import ipaddress
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
_dotenv = BASE_DIR / ".env"
if _dotenv.exists():
    environ.Env.read_env(str(_dotenv))

DATA_DIR = Path(env.str("STRATA_DATA_DIR", default=str(BASE_DIR / "var")))


def integer(name: str, default: int, *, minimum: int = 0) -> int:
    """An integer setting of at least `minimum`."""
    raw = env.str(name, default=str(default)).strip()
    try:
        value = int(raw)
    except ValueError:
        value = minimum - 1
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be an integer >= {minimum}, not {raw!r}")
    return value


def port_range(name: str, default: tuple[int, int]) -> tuple[int, int]:
    """`LOW-HIGH` or `LOW,HIGH`, both ports inclusive, LOW <= HIGH."""
    raw = env.str(name, default=f"{default[0]}-{default[1]}").strip()
    parts = raw.replace(",", "-").split("-")
    try:
        low, high = (int(p.strip()) for p in parts)
    except ValueError:
        low = high = -1
    if not (1 <= low <= high <= 65535):
        raise ImproperlyConfigured(
            f"{name} must be two ports LOW-HIGH (or LOW,HIGH) with 1 <= LOW <= HIGH <= 65535, "
            f"for example 3300-3999; got {raw!r}"
        )
    return low, high


def networks(name: str) -> tuple[str, ...]:
    """A comma-separated list of IP addresses or CIDR networks, normalized."""
    out = []
    for item in env.list(name, default=[]):
        try:
            out.append(str(ipaddress.ip_network(item.strip(), strict=False)))
        except ValueError as exc:
            raise ImproperlyConfigured(
                f"{name} must list IP addresses or CIDR networks (like 10.0.0.0/8); "
                f"{item.strip()!r} is neither"
            ) from exc
    return tuple(out)


def egress_services(name: str) -> tuple[str, ...]:
    """A comma-separated list of in-cluster services as namespace/instance:port."""
    from controlplane.provisioning.drivers.k8s_objects import EgressService

    out = []
    for item in env.list(name, default=[]):
        try:
            EgressService.parse(item)
        except ValueError as exc:
            raise ImproperlyConfigured(f"{name}: {exc}") from exc
        out.append(item.strip())
    return tuple(out)
