# A project with a production and a development deployment, CI deploy key, environment
# variables and a teammate, managed with the Strata provider.
#   export STRATA_ENDPOINT=https://strata.example.com STRATA_TOKEN=<access token>
#   terraform apply -var team_id=1

terraform {
  required_providers {
    strata = { source = "strata.local/strata/strata" }
  }
}

variable "team_id" {
  description = "Team that owns the project (see `GET /v1/teams`)."
  type        = string
}

variable "openai_api_key" {
  description = "Secret handed to the production deployment's functions."
  type        = string
  sensitive   = true
  default     = "sk-change-me"
}

provider "strata" {
  # endpoint = "https://strata.example.com" # or STRATA_ENDPOINT
  # token  = "<access token>"            # or STRATA_TOKEN
}

data "strata_team" "this" {
  id = var.team_id
}

resource "strata_project" "shop" {
  team_id = data.strata_team.this.id
  name    = "Shop"
}

resource "strata_deployment" "prod" {
  project_id = strata_project.shop.id
  type       = "prod"
  # "postgres" needs a control plane started with STRATA_DP_POSTGRES_URL; a default install
  # (and this example) stores each deployment in SQLite.
  storage = "sqlite"
}

resource "strata_deployment" "dev" {
  project_id = strata_project.shop.id
  type       = "dev"
  reference  = "alice"
}

resource "strata_environment_variable" "openai" {
  deployment_name = strata_deployment.prod.name
  name            = "OPENAI_API_KEY"
  value           = var.openai_api_key
}

resource "strata_backup_schedule" "prod" {
  deployment_name = strata_deployment.prod.name
  interval_hours  = 24
  retain          = 7
}

resource "strata_deploy_key" "ci" {
  deployment_name = strata_deployment.prod.name
  name            = "github-actions"
}

resource "strata_team_member" "alice" {
  team_id = data.strata_team.this.id
  email   = "alice@example.com"
  role    = "developer"
}

output "prod_url" {
  value = strata_deployment.prod.url
}

output "ci_deploy_key" {
  value     = strata_deploy_key.ci.key
  sensitive = true
}
