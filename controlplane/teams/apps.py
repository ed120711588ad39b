from django.apps import AppConfig


class TeamsConfig(AppConfig):
    name = "controlplane.teams"
    label = "strata_teams"
