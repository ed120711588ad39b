variable "namespace" {
  description = "Namespace to run Redis in (must exist)."
  type        = string
}

variable "name" {
  description = "Name of the Deployment and Service."
  type        = string
  default     = "strata-redis"
}

variable "image" {
  description = "Redis container image."
  type        = string
  default     = "redis:7-alpine"
}

variable "max_memory" {
  description = "Redis maxmemory (Celery queue, channel layer and API rate-limit cache; no persistence needed)."
  type        = string
  default     = "256mb"
}

variable "memory_limit" {
  description = "Container memory limit; keep it above max_memory."
  type        = string
  default     = "512Mi"
}
