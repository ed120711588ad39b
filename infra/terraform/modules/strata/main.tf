# The Strata control plane on Kubernetes: web (daphne), Celery worker and beat, the RBAC the
# kubernetes driver needs in the deployments namespace, and the Ingress for the apex domain.

resource "random_password" "secret_key" {
  length  = 64
  special = false
}

locals {
  labels = {
    "app.kubernetes.io/part-of"    = "strata"
    "app.kubernetes.io/managed-by" = "terraform"
  }
  scheme           = var.tls_secret_name == null ? "http" : "https"
  control_url      = "${local.scheme}://${var.base_domain}"
  namespace        = var.create_namespaces ? kubernetes_namespace_v1.system[0].metadata[0].name : var.namespace
  deployments_ns   = var.create_namespaces ? kubernetes_namespace_v1.deployments[0].metadata[0].name : var.deployments_namespace
  s3_blob_store    = var.s3 == null ? null : "s3://${var.s3.bucket}/${var.s3.prefix}"
  dataplane_secret = "strata-dataplane-env"

  env = merge(
    {
      DJANGO_SETTINGS_MODULE          = "controlplane.settings"
      STRATA_ENV                      = "production"
      STRATA_SECRET_KEY               = random_password.secret_key.result
      STRATA_ALLOWED_HOSTS            = "${var.base_domain},.${var.base_domain}"
      STRATA_BASE_DOMAIN              = var.base_domain
      STRATA_ROUTING                  = "host"
      STRATA_CONTROL_PLANE_URL        = local.control_url
      STRATA_DRIVER                   = "kubernetes"
      STRATA_K8S_NAMESPACE            = local.deployments_ns
      STRATA_K8S_IMAGE                = coalesce(var.dataplane_image, var.image)
      STRATA_K8S_DATAPLANE_ENV_SECRET = local.dataplane_secret
      DATABASE_URL                    = var.database_url
      REDIS_URL                       = var.redis_url
    },
    var.deployments_postgres_url == null ? {} : { STRATA_DP_POSTGRES_URL = var.deployments_postgres_url },
    var.email == null ? {} : { STRATA_EMAIL_BACKEND = var.email.backend, STRATA_FROM_EMAIL = var.email.from },
    var.stripe == null ? {} : {
      STRATA_STRIPE_SECRET_KEY     = var.stripe.secret_key
      STRATA_STRIPE_WEBHOOK_SECRET = var.stripe.webhook_secret
      STRATA_STRIPE_PRICES         = join(",", [for plan, price in var.stripe.prices : "${plan}=${price}"])
      STRATA_STRIPE_METERED_PRICES = join(",", var.stripe.metered_prices)
    },
    var.extra_env,
  )

  dataplane_env = var.s3 == null ? {} : { for k, v in {
    STRATA_DP_BLOB_STORE      = local.s3_blob_store
    STRATA_DP_S3_ENDPOINT_URL = var.s3.endpoint_url
    AWS_DEFAULT_REGION        = var.s3.region
    AWS_ACCESS_KEY_ID         = var.s3.access_key_id
    AWS_SECRET_ACCESS_KEY     = var.s3.secret_access_key
  } : k => v if v != null }

  components = {
    web = {
      replicas = var.replicas
      # Sync messages through the gateway up to 64 MiB (controlplane/provisioning/gateway.py).
      command = [
        "python", "-m", "daphne", "-b", "0.0.0.0", "-p", "8000",
        "--websocket-max-message-size", "67108864", "--websocket-max-frame-size", "67108864",
        "controlplane.asgi:application",
      ]
    }
    worker = {
      replicas = var.worker_replicas
      command  = ["celery", "-A", "controlplane.celery", "worker", "--loglevel", "INFO"]
    }
    beat = {
      replicas = 1 # exactly one scheduler, or periodic tasks run twice
      command  = ["celery", "-A", "controlplane.celery", "beat", "--loglevel", "INFO"]
    }
  }
}

resource "kubernetes_namespace_v1" "system" {
  count = var.create_namespaces ? 1 : 0
  metadata {
    name   = var.namespace
    labels = local.labels
  }
}

resource "kubernetes_namespace_v1" "deployments" {
  count = var.create_namespaces ? 1 : 0
  metadata {
    name   = var.deployments_namespace
    labels = local.labels
  }
}

resource "kubernetes_secret_v1" "env" {
  metadata {
    name      = "strata-controlplane-env"
    namespace = local.namespace
    labels    = local.labels
  }
  data = local.env
}

# Environment the driver adds to every data-plane pod (file storage in S3).
resource "kubernetes_secret_v1" "dataplane_env" {
  metadata {
    name      = local.dataplane_secret
    namespace = local.deployments_ns
    labels    = local.labels
  }
  data = local.dataplane_env
}

resource "kubernetes_service_account_v1" "controlplane" {
  metadata {
    name      = "strata-controlplane"
    namespace = local.namespace
    labels    = local.labels
  }
}

resource "kubernetes_role_v1" "driver" {
  metadata {
    name      = "strata-driver"
    namespace = local.deployments_ns
    labels    = local.labels
  }
  rule {
    api_groups = [""]
    resources  = ["secrets", "configmaps", "services", "persistentvolumeclaims"]
    verbs      = ["get", "list", "watch", "create", "update", "patch", "delete"]
  }
  rule {
    api_groups = [""]
    resources  = ["pods", "pods/log"]
    verbs      = ["get", "list", "watch"]
  }
  rule {
    api_groups = ["apps"]
    resources  = ["deployments", "deployments/scale"]
    verbs      = ["get", "list", "watch", "create", "update", "patch", "delete"]
  }
  rule {
    api_groups = ["networking.k8s.io"]
    resources  = ["ingresses"]
    verbs      = ["get", "list", "watch", "create", "update", "patch", "delete"]
  }
}

resource "kubernetes_role_binding_v1" "driver" {
  metadata {
    name      = "strata-driver"
    namespace = local.deployments_ns
    labels    = local.labels
  }
  role_ref {
    api_group = "rbac.authorization.k8s.io"
    kind      = "Role"
    name      = kubernetes_role_v1.driver.metadata[0].name
  }
  subject {
    kind      = "ServiceAccount"
    name      = kubernetes_service_account_v1.controlplane.metadata[0].name
    namespace = local.namespace
  }
}

resource "kubernetes_deployment_v1" "component" {
  for_each = local.components

  metadata {
    name      = "strata-${each.key}"
    namespace = local.namespace
    labels    = merge(local.labels, { "app.kubernetes.io/name" = "strata-${each.key}" })
  }
  spec {
    replicas = each.value.replicas
    strategy {
      type = each.key == "beat" ? "Recreate" : "RollingUpdate"
    }
    selector {
      match_labels = { "app.kubernetes.io/name" = "strata-${each.key}" }
    }
    template {
      metadata {
        labels = merge(local.labels, { "app.kubernetes.io/name" = "strata-${each.key}" })
        annotations = {
          # Roll the pods when the configuration changes.
          "strata.dev/config-hash" = sha256(jsonencode(local.env))
        }
      }
      spec {
        service_account_name = kubernetes_service_account_v1.controlplane.metadata[0].name
        dynamic "init_container" {
          for_each = each.key == "web" ? [1] : []
          content {
            name    = "migrate"
            image   = var.image
            command = ["python", "manage.py", "migrate", "--noinput"]
            env_from {
              secret_ref {
                name = kubernetes_secret_v1.env.metadata[0].name
              }
            }
          }
        }
        container {
          name    = each.key
          image   = var.image
          command = each.value.command
          env_from {
            secret_ref {
              name = kubernetes_secret_v1.env.metadata[0].name
            }
          }
          dynamic "port" {
            for_each = each.key == "web" ? [8000] : []
            content {
              container_port = port.value
            }
          }
          dynamic "readiness_probe" {
            for_each = each.key == "web" ? [1] : []
            content {
              http_get {
                path = "/healthz"
                port = 8000
                http_header {
                  name  = "Host"
                  value = var.base_domain
                }
              }
              period_seconds = 5
            }
          }
          resources {
            requests = {
              cpu    = "100m"
              memory = "256Mi"
            }
            limits = {
              memory = "1Gi"
            }
          }
        }
      }
    }
  }
}

resource "kubernetes_service_v1" "web" {
  metadata {
    name      = "strata-web"
    namespace = local.namespace
    labels    = local.labels
  }
  spec {
    selector = { "app.kubernetes.io/name" = "strata-web" }
    port {
      name        = "http"
      port        = 80
      target_port = 8000
    }
  }
}

resource "kubernetes_ingress_v1" "web" {
  metadata {
    name      = "strata-web"
    namespace = local.namespace
    labels    = local.labels
    annotations = {
      # Sync clients hold WebSockets open; don't cut them at the default 60 s.
      "nginx.ingress.kubernetes.io/proxy-read-timeout" = "3600"
      "nginx.ingress.kubernetes.io/proxy-send-timeout" = "3600"
    }
  }
  spec {
    ingress_class_name = var.ingress_class
    dynamic "tls" {
      for_each = var.tls_secret_name == null ? [] : [var.tls_secret_name]
      content {
        hosts       = [var.base_domain]
        secret_name = tls.value
      }
    }
    rule {
      host = var.base_domain
      http {
        path {
          path      = "/"
          path_type = "Prefix"
          backend {
            service {
              name = kubernetes_service_v1.web.metadata[0].name
              port {
                number = 80
              }
            }
          }
        }
      }
    }
  }
}
