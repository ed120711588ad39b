# Redis for the control plane: Celery broker, Channels layer and the API's rate-limit cache.
# Everything in it is rebuildable, so it runs without persistence.

locals {
  labels = {
    "app.kubernetes.io/name"       = "redis"
    "app.kubernetes.io/instance"   = var.name
    "app.kubernetes.io/part-of"    = "strata"
    "app.kubernetes.io/managed-by" = "terraform"
  }
}

resource "kubernetes_deployment_v1" "this" {
  metadata {
    name      = var.name
    namespace = var.namespace
    labels    = local.labels
  }
  spec {
    replicas = 1
    selector {
      match_labels = local.labels
    }
    template {
      metadata {
        labels = local.labels
      }
      spec {
        container {
          name  = "redis"
          image = var.image
          args  = ["--save", "", "--appendonly", "no", "--maxmemory", var.max_memory]
          port {
            container_port = 6379
          }
          readiness_probe {
            exec {
              command = ["redis-cli", "ping"]
            }
            period_seconds = 5
          }
          resources {
            requests = {
              cpu    = "50m"
              memory = "64Mi"
            }
            limits = {
              memory = var.memory_limit
            }
          }
        }
      }
    }
  }
}

resource "kubernetes_service_v1" "this" {
  metadata {
    name      = var.name
    namespace = var.namespace
    labels    = local.labels
  }
  spec {
    selector = local.labels
    port {
      name        = "redis"
      port        = 6379
      target_port = 6379
    }
  }
}
