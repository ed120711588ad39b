"""Strata data plane: one deployment's reactive engine, runnable alone.

Knows nothing of teams, projects or billing; the control plane reaches it only over HTTP,
and both planes share only `contract/` (key formats, scopes, revocation, usage reports).
"""
