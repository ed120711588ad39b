"""Terraform provider for the Strata management API (Terraform plugin protocol v6 via `tf`)."""

PROVIDER_ADDRESS = "strata.local/strata/strata"
