output "bucket" {
  description = "Bucket name."
  value       = aws_s3_bucket.files.id
}

output "region" {
  description = "Region of the bucket (AWS_DEFAULT_REGION for the data planes)."
  value       = aws_s3_bucket.files.region
}

output "policy_arn" {
  description = "IAM policy granting access to the bucket; attach it to an IRSA role instead of using the access key."
  value       = aws_iam_policy.files.arn
}

output "access_key_id" {
  description = "Access key id of the bucket user (null when create_access_key is false)."
  value       = var.create_access_key ? aws_iam_access_key.files[0].id : null
}

output "secret_access_key" {
  description = "Secret of that access key."
  value       = var.create_access_key ? aws_iam_access_key.files[0].secret : null
  sensitive   = true
}
