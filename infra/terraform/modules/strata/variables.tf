variable "namespace" {
  description = "Namespace of the control plane (created by this module)."
  type        = string
  default     = "strata-system"
}

variable "deployments_namespace" {
  description = "Namespace in which the kubernetes driver creates each Strata deployment's Deployment, Service, Ingress, NetworkPolicy, PodDisruptionBudget, Secret, ConfigMap and (SQLite) PVC (created by this module)."
  type        = string
  default     = "strata"
}

variable "create_namespaces" {
  description = "Create both namespaces, labelled for the restricted Pod Security standard (false when they already exist; then label them yourself, see infra/KUBERNETES.md)."
  type        = bool
  default     = true
}

variable "image" {
  description = "Image with the Strata code (control plane, Celery worker and data plane share it)."
  type        = string
}

variable "dataplane_image" {
  description = "Image the driver runs for each deployment (default: var.image)."
  type        = string
  default     = null
}

variable "base_domain" {
  description = "DNS domain: the control plane is served at the apex and each deployment at <name>.<base_domain> (a wildcard record must point at the ingress)."
  type        = string
}

variable "ingress_class" {
  description = "IngressClass of the control-plane and deployment Ingresses."
  type        = string
  default     = "nginx"
}

variable "tls_secret_name" {
  description = "Secret with a certificate for base_domain and *.base_domain (null = no TLS on the Ingress)."
  type        = string
  default     = null
}

variable "database_url" {
  description = "Control-plane database URL (postgresql://...)."
  type        = string
  sensitive   = true
}

variable "deployments_postgres_url" {
  description = "Admin URL of the Postgres server on which deployments with storage=postgres get their own database (null = only SQLite deployments)."
  type        = string
  default     = null
  sensitive   = true
}

variable "deployments_mysql_url" {
  description = "Admin URL (mysql://user:pass@host:3306/mysql) of the MySQL server on which deployments with storage=mysql get their own database (null = none)."
  type        = string
  default     = null
  sensitive   = true
}

variable "redis_url" {
  description = "Redis URL: Celery broker, channel layer and rate-limit cache."
  type        = string
}

variable "s3" {
  description = "S3 bucket for deployments' files (null = files on each deployment's volume). endpoint_url is for S3-compatible servers (MinIO, R2); leave null for AWS."
  type = object({
    bucket            = string
    prefix            = optional(string, "")
    region            = optional(string)
    endpoint_url      = optional(string)
    access_key_id     = optional(string)
    secret_access_key = optional(string)
  })
  default   = null
  sensitive = true
}

variable "stripe" {
  description = "Stripe billing settings (null = billing off). prices maps plan names (pro, unlimited) to Stripe price ids."
  type = object({
    secret_key     = string
    webhook_secret = string
    prices         = map(string)
    metered_prices = optional(list(string), [])
  })
  default   = null
  sensitive = true
}

variable "email" {
  description = "Outgoing email: a Django email backend and sender (null = console backend; verification emails go to the logs)."
  type = object({
    backend = string
    from    = string
  })
  default = null
}

variable "replicas" {
  description = "Control-plane web replicas."
  type        = number
  default     = 2
}

variable "worker_replicas" {
  description = "Celery worker replicas (provisioning, purges, usage reports)."
  type        = number
  default     = 1
}

variable "extra_env" {
  description = "More environment variables for the control plane and workers."
  type        = map(string)
  default     = {}
}

variable "ingress_namespace" {
  description = "Namespace of the ingress controller: the only namespace (besides the control plane's gateway) whose pods may connect to deployments."
  type        = string
  default     = "ingress-nginx"
}

variable "deployment_replicas" {
  description = "Pods per Postgres deployment (one committer, the others read replicas that take over); SQLite deployments always run one."
  type        = number
  default     = 2
}

variable "deployments_redis_url" {
  description = "Redis URL the pods of a Postgres deployment announce commits on (null = replicas poll the database only). Use an instance of its own, not the control plane's."
  type        = string
  default     = null
  sensitive   = true
}

variable "deployments_egress_services" {
  description = "In-cluster services data-plane pods may connect to, as namespace/instance:port matched on app.kubernetes.io/instance: the deployments' Postgres server, their Redis, an in-cluster S3."
  type        = list(string)
  default     = []
}

variable "deployments_egress_networks" {
  description = "CIDRs in private ranges data-plane pods may reach (e.g. a managed Postgres outside the cluster); public addresses need no entry."
  type        = list(string)
  default     = []
}

variable "deployments_internet" {
  description = "Let data-plane pods reach public addresses (fetch() from actions); private ranges stay closed either way."
  type        = bool
  default     = true
}
