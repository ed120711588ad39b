"""The bridge between the control plane and data planes: provisioning, routing, key signing."""
