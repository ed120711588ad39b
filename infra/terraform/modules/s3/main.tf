# The S3 bucket behind deployments' file storage (STRATA_DP_BLOB_STORE=s3://bucket/prefix):
# private, encrypted, versioned, with an optional IAM user whose key reaches only this bucket.

resource "aws_s3_bucket" "files" {
  bucket        = var.bucket_name
  force_destroy = var.force_destroy
  tags          = merge(var.tags, { "app.kubernetes.io/part-of" = "strata" })
}

resource "aws_s3_bucket_public_access_block" "files" {
  bucket                  = aws_s3_bucket.files.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_server_side_encryption_configuration" "files" {
  bucket = aws_s3_bucket.files.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_versioning" "files" {
  bucket = aws_s3_bucket.files.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "files" {
  bucket = aws_s3_bucket.files.id
  rule {
    id     = "expire-old-versions"
    status = "Enabled"
    filter {}
    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_days
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 2
    }
  }
}

data "aws_iam_policy_document" "files" {
  statement {
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.files.arn]
  }
  statement {
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = ["${aws_s3_bucket.files.arn}/*"]
  }
}

resource "aws_iam_policy" "files" {
  name   = "${var.bucket_name}-access"
  policy = data.aws_iam_policy_document.files.json
  tags   = var.tags
}

resource "aws_iam_user" "files" {
  count = var.create_access_key ? 1 : 0
  name  = "${var.bucket_name}-dataplane"
  tags  = var.tags
}

resource "aws_iam_user_policy_attachment" "files" {
  count      = var.create_access_key ? 1 : 0
  user       = aws_iam_user.files[0].name
  policy_arn = aws_iam_policy.files.arn
}

resource "aws_iam_access_key" "files" {
  count = var.create_access_key ? 1 : 0
  user  = aws_iam_user.files[0].name
}
