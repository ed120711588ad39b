output "url" {
  description = "Control-plane URL (the management API is at <url>/v1; point the Terraform provider here)."
  value       = local.control_url
}

output "namespace" {
  description = "Namespace of the control plane."
  value       = local.namespace
}

output "deployments_namespace" {
  description = "Namespace holding the deployments' workloads."
  value       = local.deployments_ns
}

output "stripe_webhook_url" {
  description = "Endpoint to register in the Stripe dashboard for webhooks."
  value       = "${local.control_url}/v1/billing/stripe_webhook"
}
