output "host" {
  description = "In-cluster host name of the server."
  value       = "${kubernetes_service_v1.this.metadata[0].name}.${var.namespace}.svc"
}

output "database_url" {
  description = "URL of the control-plane database (DATABASE_URL)."
  value       = "postgresql://${var.username}:${random_password.this.result}@${kubernetes_service_v1.this.metadata[0].name}.${var.namespace}.svc:5432/${var.database}"
  sensitive   = true
}

output "admin_url" {
  description = "URL of the maintenance database, on which Postgres-backed deployments get their own database (STRATA_DP_POSTGRES_URL)."
  value       = "postgresql://${var.username}:${random_password.this.result}@${kubernetes_service_v1.this.metadata[0].name}.${var.namespace}.svc:5432/postgres"
  sensitive   = true
}
