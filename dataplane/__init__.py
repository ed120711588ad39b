"""Strata data plane: one deployment's reactive engine, runnable alone.

Knows nothing of teams, projects or billing; the control plane reaches it only through
`tenants/`.
"""
