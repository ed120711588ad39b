# Strata on an existing Kubernetes cluster with in-cluster Postgres and Redis and an S3 bucket
# (infra/KUBERNETES.md walks through it).
#   terraform init && terraform apply -var image=registry.example.com/strata:1.0 \
#     -var base_domain=strata.example.com -var files_bucket=strata-files
#
# The control plane and the deployments get a Postgres server and a Redis each: a deployment's
# NetworkPolicy lets its pods reach the deployments' servers and never the control plane's.

terraform {
  required_version = ">= 1.5"
  required_providers {
    kubernetes = { source = "hashicorp/kubernetes", version = ">= 2.23" }
    random     = { source = "hashicorp/random", version = ">= 3.5" }
    aws        = { source = "hashicorp/aws", version = ">= 5.0" }
  }
}

variable "kubeconfig" {
  description = "Path of the kubeconfig to use."
  type        = string
  default     = "~/.kube/config"
}

variable "aws_region" {
  description = "Region of the file bucket."
  type        = string
  default     = "eu-west-1"
}

variable "image" {
  description = "Strata image."
  type        = string
}

variable "base_domain" {
  description = "Domain of the control plane; deployments live at <name>.<base_domain>."
  type        = string
}

variable "files_bucket" {
  description = "Name of the S3 bucket for deployments' files."
  type        = string
}

provider "kubernetes" {
  config_path = pathexpand(var.kubeconfig)
}

provider "aws" {
  region = var.aws_region
}

# Backing services. Their images run as the users they choose, so this namespace enforces the
# baseline Pod Security standard; Strata's own namespaces (created by the module) enforce
# restricted.
resource "kubernetes_namespace_v1" "data" {
  metadata {
    name = "strata-data"
    labels = {
      "pod-security.kubernetes.io/enforce" = "baseline"
      "pod-security.kubernetes.io/warn"    = "restricted"
    }
  }
}

module "postgres" {
  source    = "../../modules/postgres"
  namespace = kubernetes_namespace_v1.data.metadata[0].name
  name      = "postgres"
}

module "deployments_postgres" {
  source    = "../../modules/postgres"
  namespace = kubernetes_namespace_v1.data.metadata[0].name
  name      = "deployments-postgres"
}

module "redis" {
  source    = "../../modules/redis"
  namespace = kubernetes_namespace_v1.data.metadata[0].name
  name      = "redis"
}

module "deployments_redis" {
  source    = "../../modules/redis"
  namespace = kubernetes_namespace_v1.data.metadata[0].name
  name      = "deployments-redis"
}

module "files" {
  source      = "../../modules/s3"
  bucket_name = var.files_bucket
}

module "strata" {
  source      = "../../modules/strata"
  image       = var.image
  base_domain = var.base_domain

  database_url             = module.postgres.database_url
  redis_url                = module.redis.url
  deployments_postgres_url = module.deployments_postgres.admin_url
  deployments_redis_url    = module.deployments_redis.url
  deployments_egress_services = [
    "${kubernetes_namespace_v1.data.metadata[0].name}/deployments-postgres:5432",
    "${kubernetes_namespace_v1.data.metadata[0].name}/deployments-redis:6379",
  ]
  s3 = {
    bucket            = module.files.bucket
    prefix            = "files"
    region            = module.files.region
    access_key_id     = module.files.access_key_id
    secret_access_key = module.files.secret_access_key
  }
}

output "control_plane_url" {
  value = module.strata.url
}

output "stripe_webhook_url" {
  value = module.strata.stripe_webhook_url
}
