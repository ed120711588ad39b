"""Deployments: lifecycle, environment variables, provisioning tasks."""
