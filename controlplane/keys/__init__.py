"""Deploy/admin keys and personal/team access tokens, stored hashed."""
