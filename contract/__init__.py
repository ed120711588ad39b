"""What the control plane and the data planes share, and nothing else: key formats and their
signatures, scopes, the revocation file, usage reports and the deployment spec.

Both planes import this package; it imports neither (tests/test_layering.py checks that).
"""
