"""Projects: a team's named group of deployments."""
