"""The REST management API under /v1 (DRF)."""
