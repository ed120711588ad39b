"""Audit log of every change made through the control plane."""
