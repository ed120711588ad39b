"""The single django-environ reader shared by every settings module."""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
_dotenv = BASE_DIR / ".env"
if _dotenv.exists():
    environ.Env.read_env(str(_dotenv))

DATA_DIR = Path(env.str("STRATA_DATA_DIR", default=str(BASE_DIR / "var")))
