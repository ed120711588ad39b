# Strata on an existing Kubernetes cluster with in-cluster Postgres and Redis and an S3 bucket.
#   terraform init && terraform apply -var image=registry.example.com/strata:1.0 -var base_domain=strata.example.com

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

resource "kubernetes_namespace_v1" "system" {
  metadata {
    name = "strata-system"
  }
}

resource "kubernetes_namespace_v1" "deployments" {
  metadata {
    name = "strata"
  }
}

module "postgres" {
  source    = "../../modules/postgres"
  namespace = kubernetes_namespace_v1.system.metadata[0].name
}

module "redis" {
  source    = "../../modules/redis"
  namespace = kubernetes_namespace_v1.system.metadata[0].name
}

module "files" {
  source      = "../../modules/s3"
  bucket_name = var.files_bucket
}

module "strata" {
  source                = "../../modules/strata"
  create_namespaces     = false
  namespace             = kubernetes_namespace_v1.system.metadata[0].name
  deployments_namespace = kubernetes_namespace_v1.deployments.metadata[0].name
  image                 = var.image
  base_domain           = var.base_domain

  database_url             = module.postgres.database_url
  deployments_postgres_url = module.postgres.admin_url
  redis_url                = module.redis.url
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
