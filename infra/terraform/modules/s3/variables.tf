variable "bucket_name" {
  description = "Name of the bucket holding deployments' stored files (globally unique)."
  type        = string
}

variable "force_destroy" {
  description = "Allow destroying the bucket while it still holds files."
  type        = bool
  default     = false
}

variable "noncurrent_version_days" {
  description = "Days to keep overwritten or deleted file versions before they expire."
  type        = number
  default     = 30
}

variable "create_access_key" {
  description = "Create an IAM user with an access key limited to this bucket (off when pods get credentials another way, e.g. IRSA)."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags added to every AWS resource."
  type        = map(string)
  default     = {}
}
