"""Teams, roles and invitations."""
