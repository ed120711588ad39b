# A single-replica PostgreSQL StatefulSet for the control plane and Postgres-backed deployments.
# For production, a managed database (RDS, Cloud SQL) is usually better: skip this module and
# pass its URL to the strata module instead.

resource "random_password" "this" {
  length  = 32
  special = false
}

locals {
  labels = {
    "app.kubernetes.io/name"       = "postgres"
    "app.kubernetes.io/instance"   = var.name
    "app.kubernetes.io/part-of"    = "strata"
    "app.kubernetes.io/managed-by" = "terraform"
  }
}

resource "kubernetes_secret_v1" "this" {
  metadata {
    name      = var.name
    namespace = var.namespace
    labels    = local.labels
  }
  data = {
    POSTGRES_USER     = var.username
    POSTGRES_PASSWORD = random_password.this.result
    POSTGRES_DB       = var.database
  }
}

resource "kubernetes_service_v1" "this" {
  metadata {
    name      = var.name
    namespace = var.namespace
    labels    = local.labels
  }
  spec {
    selector   = local.labels
    cluster_ip = "None"
    port {
      name        = "postgres"
      port        = 5432
      target_port = 5432
    }
  }
}

resource "kubernetes_stateful_set_v1" "this" {
  metadata {
    name      = var.name
    namespace = var.namespace
    labels    = local.labels
  }
  spec {
    service_name = kubernetes_service_v1.this.metadata[0].name
    replicas     = 1
    selector {
      match_labels = local.labels
    }
    template {
      metadata {
        labels = local.labels
      }
      spec {
        container {
          name  = "postgres"
          image = var.image
          env_from {
            secret_ref {
              name = kubernetes_secret_v1.this.metadata[0].name
            }
          }
          env {
            name  = "PGDATA"
            value = "/var/lib/postgresql/data/pgdata"
          }
          port {
            container_port = 5432
          }
          readiness_probe {
            exec {
              command = ["pg_isready", "-U", var.username, "-d", var.database]
            }
            period_seconds = 5
          }
          resources {
            requests = {
              cpu    = var.resources.cpu_request
              memory = var.resources.memory_request
            }
            limits = {
              memory = var.resources.memory_limit
            }
          }
          volume_mount {
            name       = "data"
            mount_path = "/var/lib/postgresql/data"
          }
        }
      }
    }
    volume_claim_template {
      metadata {
        name = "data"
      }
      spec {
        access_modes       = ["ReadWriteOnce"]
        storage_class_name = var.storage_class
        resources {
          requests = {
            storage = var.storage_size
          }
        }
      }
    }
  }
}
