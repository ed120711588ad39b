"""Strata control plane: accounts, teams, projects, deployments, keys, usage, billing."""
