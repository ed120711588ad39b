variable "namespace" {
  description = "Namespace to run PostgreSQL in (must exist)."
  type        = string
}

variable "name" {
  description = "Name of the StatefulSet, Service and Secret."
  type        = string
  default     = "strata-postgres"
}

variable "image" {
  description = "PostgreSQL container image."
  type        = string
  default     = "postgres:16"
}

variable "database" {
  description = "Database created for the control plane."
  type        = string
  default     = "strata"
}

variable "username" {
  description = "Superuser name. Superuser rights are needed because the platform creates one database per Postgres-backed deployment."
  type        = string
  default     = "strata"
}

variable "storage_size" {
  description = "Size of the data volume."
  type        = string
  default     = "20Gi"
}

variable "storage_class" {
  description = "StorageClass of the data volume (null = the cluster default)."
  type        = string
  default     = null
}

variable "resources" {
  description = "Container requests and limits."
  type = object({
    cpu_request    = string
    memory_request = string
    memory_limit   = string
  })
  default = {
    cpu_request    = "250m"
    memory_request = "512Mi"
    memory_limit   = "2Gi"
  }
}
