from django.apps import AppConfig


class ProjectsConfig(AppConfig):
    name = "controlplane.projects"
    label = "strata_projects"
