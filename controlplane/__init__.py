"""The Strata control plane (Django): accounts, teams, projects, deployments, keys, usage."""

from .celery import app as celery_app

__all__ = ["celery_app"]
