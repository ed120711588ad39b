"""Accounts: sign-up, email verification, password reset and login."""
