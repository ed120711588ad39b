"""Settings package: each topic module reads its values from the environment (django-environ)."""

from .api import *  # noqa: F403
from .backups import *  # noqa: F403
from .base import *  # noqa: F403
from .celery import *  # noqa: F403
from .channels import *  # noqa: F403
from .database import *  # noqa: F403
from .platform import *  # noqa: F403
