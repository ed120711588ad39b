# The Strata control plane on Kubernetes: web (daphne), Celery worker and beat, the RBAC the
# kubernetes driver needs in the deployments namespace, and the Ingress for the apex domain.
#
# Every object except the Secrets comes from platform.json.tftpl, which the project renders with
# the code the kubernetes driver uses for each deployment's objects
# (controlplane/provisioning/drivers/k8s_objects.py): one source for the pod security profile,
# the namespaces' Pod Security labels and the Role that lets the driver create what it renders.

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
  namespace        = var.namespace
  deployments_ns   = var.deployments_namespace
  s3_blob_store    = var.s3 == null ? null : "s3://${var.s3.bucket}/${var.s3.prefix}"
  dataplane_secret = "strata-dataplane-env"

  env = merge(
    {
      DJANGO_SETTINGS_MODULE            = "controlplane.settings"
      STRATA_ENV                        = "production"
      STRATA_SECRET_KEY                 = random_password.secret_key.result
      STRATA_ALLOWED_HOSTS              = "${var.base_domain},.${var.base_domain}"
      STRATA_BASE_DOMAIN                = var.base_domain
      STRATA_ROUTING                    = "host"
      STRATA_CONTROL_PLANE_URL          = local.control_url
      STRATA_DRIVER                     = "kubernetes"
      STRATA_K8S_NAMESPACE              = local.deployments_ns
      STRATA_K8S_IMAGE                  = coalesce(var.dataplane_image, var.image)
      STRATA_K8S_DATAPLANE_ENV_SECRET   = local.dataplane_secret
      STRATA_K8S_REPLICAS               = tostring(var.deployment_replicas)
      STRATA_K8S_CONTROLPLANE_NAMESPACE = local.namespace
      STRATA_K8S_INGRESS_NAMESPACE      = var.ingress_namespace
      STRATA_K8S_INGRESS_CLASS          = var.ingress_class
      STRATA_K8S_EGRESS_SERVICES        = join(",", var.deployments_egress_services)
      STRATA_K8S_EGRESS_NETWORKS        = join(",", var.deployments_egress_networks)
      STRATA_K8S_EGRESS_INTERNET        = var.deployments_internet ? "true" : "false"
      DATABASE_URL                      = var.database_url
      REDIS_URL                         = var.redis_url
    },
    var.deployments_postgres_url == null ? {} : { STRATA_DP_POSTGRES_URL = var.deployments_postgres_url },
    var.deployments_mysql_url == null ? {} : { STRATA_DP_MYSQL_URL = var.deployments_mysql_url },
    var.email == null ? {} : { STRATA_EMAIL_BACKEND = var.email.backend, STRATA_FROM_EMAIL = var.email.from },
    var.stripe == null ? {} : {
      STRATA_STRIPE_SECRET_KEY     = var.stripe.secret_key
      STRATA_STRIPE_WEBHOOK_SECRET = var.stripe.webhook_secret
      STRATA_STRIPE_PRICES         = join(",", [for plan, price in var.stripe.prices : "${plan}=${price}"])
      STRATA_STRIPE_METERED_PRICES = join(",", var.stripe.metered_prices)
    },
    var.extra_env,
  )

  dataplane_env = merge(
    var.s3 == null ? {} : { for k, v in {
      STRATA_DP_BLOB_STORE      = local.s3_blob_store
      STRATA_DP_S3_ENDPOINT_URL = var.s3.endpoint_url
      AWS_DEFAULT_REGION        = var.s3.region
      AWS_ACCESS_KEY_ID         = var.s3.access_key_id
      AWS_SECRET_ACCESS_KEY     = var.s3.secret_access_key
    } : k => v if v != null },
    # Commit fan-out between the pods of a Postgres deployment.
    var.deployments_redis_url == null ? {} : { STRATA_DP_REDIS_URL = var.deployments_redis_url },
  )

  platform = [
    for o in jsondecode(templatefile("${path.module}/platform.json.tftpl", {
      namespace             = local.namespace
      deployments_namespace = local.deployments_ns
      image                 = var.image
      base_domain           = var.base_domain
      ingress_class         = var.ingress_class
      web_replicas          = var.replicas
      worker_replicas       = var.worker_replicas
      ingress_tls           = var.tls_secret_name == null ? [] : [{ hosts = [var.base_domain], secretName = var.tls_secret_name }]
    })) : o if o.kind != "Namespace" || var.create_namespaces
  ]
  # Known at plan time: the template's inputs are plain variables, so the keys are too.
  objects = {
    for o in local.platform : "${o.kind}/${o.metadata.namespace}/${o.metadata.name}" => o
    if !contains(["Namespace", "Deployment"], o.kind)
  }
  # Roll the pods when the configuration changes (the hash may be unknown until apply).
  workloads = {
    for o in local.platform : o.metadata.name => merge(o, {
      spec = merge(o.spec, {
        template = merge(o.spec.template, {
          metadata = merge(o.spec.template.metadata, {
            annotations = { "strata.dev/config-hash" = sha256(jsonencode(local.env)) }
          })
        })
      })
    }) if o.kind == "Deployment"
  }
}

resource "kubernetes_manifest" "namespace" {
  for_each = { for o in local.platform : o.metadata.name => o if o.kind == "Namespace" }
  manifest = each.value
}

resource "kubernetes_secret_v1" "env" {
  metadata {
    name      = "strata-controlplane-env"
    namespace = local.namespace
    labels    = local.labels
  }
  data       = local.env
  depends_on = [kubernetes_manifest.namespace]
}

# Environment the driver adds to every data-plane pod (file storage in S3, commit fan-out).
resource "kubernetes_secret_v1" "dataplane_env" {
  metadata {
    name      = local.dataplane_secret
    namespace = local.deployments_ns
    labels    = local.labels
  }
  data       = local.dataplane_env
  depends_on = [kubernetes_manifest.namespace]
}

resource "kubernetes_manifest" "object" {
  for_each   = local.objects
  manifest   = each.value
  depends_on = [kubernetes_manifest.namespace]
}

resource "kubernetes_manifest" "workload" {
  for_each   = local.workloads
  manifest   = each.value
  depends_on = [kubernetes_manifest.object, kubernetes_secret_v1.env]
}
