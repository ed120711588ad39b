"""Provisioning of data planes by the control plane: drivers (local processes, Kubernetes),
the host gateway, reconciliation, the data-plane HTTP client and the management commands that
run the platform or one standalone deployment."""
