output "url" {
  description = "In-cluster Redis URL (REDIS_URL)."
  value       = "redis://${kubernetes_service_v1.this.metadata[0].name}.${var.namespace}.svc:6379/0"
}
