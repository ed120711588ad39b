"""Control-plane database: SQLite under the data directory by default, any DATABASE_URL else."""

from .env import DATA_DIR, env

DATA_DIR.mkdir(parents=True, exist_ok=True)

DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{DATA_DIR / 'controlplane.sqlite3'}")
}
