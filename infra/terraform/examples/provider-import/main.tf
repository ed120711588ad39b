# Adopting objects created elsewhere (dashboard, CLI) with import blocks.
# Import ids: project = "<project id>", deployment = "<name>",
# environment variable = "<deployment>/<NAME>", deploy key = "<deployment>/<key id>",
# team member = "<team id>/<email>".

terraform {
  required_providers {
    strata = { source = "strata.local/strata/strata" }
  }
}

variable "team_id" {
  type = string
}

variable "project_id" {
  type = string
}

variable "deployment_name" {
  type = string
}

import {
  to = strata_project.existing
  id = var.project_id
}

import {
  to = strata_deployment.existing
  id = var.deployment_name
}

import {
  to = strata_environment_variable.site_url
  id = "${var.deployment_name}/SITE_URL"
}

resource "strata_project" "existing" {
  team_id = var.team_id
  name    = "Existing project"
}

resource "strata_deployment" "existing" {
  project_id = strata_project.existing.id
  type       = "prod"
}

resource "strata_environment_variable" "site_url" {
  deployment_name = strata_deployment.existing.name
  name            = "SITE_URL"
  value           = "https://example.com"
}
