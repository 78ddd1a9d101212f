# The bucket: private, owner-enforced, encrypted, TLS only.

resource "aws_s3_bucket" "this" {
  bucket        = var.s3_bucket_name
  force_destroy = var.s3_force_destroy
  # The deployed release last, so that no other tag stands in for it.
  tags = merge(var.tags, var.s3_bucket_tags, local.event_bus_tags, local.release_tags)
}

resource "aws_s3_bucket_public_access_block" "this" {
  bucket = aws_s3_bucket.this.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = var.s3_kms_key_arn == null ? "AES256" : "aws:kms"
      kms_master_key_id = var.s3_kms_key_arn
    }
    # A bucket key cuts the KMS requests (and their cost) by orders of magnitude.
    bucket_key_enabled = var.s3_kms_key_arn != null
  }
}

resource "aws_s3_bucket_versioning" "this" {
  count = var.s3_versioning ? 1 : 0

  bucket = aws_s3_bucket.this.id

  versioning_configuration {
    status = "Enabled"
  }
}

# What a versioned bucket keeps of deleted files (what `serverless-pypi restore`
# brings back) and of rewritten manifests, for so many days; then the versions
# expire, and so do delete markers with nothing left under them.
resource "aws_s3_bucket_lifecycle_configuration" "this" {
  count = var.s3_noncurrent_version_expiration_days == null && !local.trusted_publishing ? 0 : 1

  bucket = aws_s3_bucket.this.id

  dynamic "rule" {
    for_each = var.s3_noncurrent_version_expiration_days == null ? [] : [1]
    content {
      id     = "expire-noncurrent-versions"
      status = "Enabled"

      filter {}

      noncurrent_version_expiration {
        noncurrent_days = var.s3_noncurrent_version_expiration_days
      }

      expiration {
        expired_object_delete_marker = true
      }
    }
  }

  # Trusted publishing's markers (a used jti, a burned upload token): one empty
  # object per publish, needed while the token they name could be used, which is
  # at most a day (an OIDC token) or 6 hours (an upload token).
  dynamic "rule" {
    for_each = local.trusted_publishing ? [1] : []
    content {
      id     = "expire-trusted-publishing-markers"
      status = "Enabled"

      filter {
        prefix = "${local.oidc_markers_prefix}/"
      }

      expiration {
        days = 2
      }

      noncurrent_version_expiration {
        noncurrent_days = 1
      }
    }
  }

  # S3 wants versioning set before a rule about noncurrent versions.
  depends_on = [aws_s3_bucket_versioning.this]
}

# TLS only: a request without it is denied, whoever makes it.
locals {
  bucket_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "DenyInsecureTransport"
        Effect    = "Deny"
        Principal = "*"
        Action    = "s3:*"
        Resource  = [local.bucket_arn, "${local.bucket_arn}/*"]
        Condition = { Bool = { "aws:SecureTransport" = "false" } }
      },
    ]
  })
}

resource "aws_s3_bucket_policy" "this" {
  bucket = aws_s3_bucket.this.id
  policy = local.bucket_policy

  # S3 rejects concurrent changes to a bucket's policy and its public access block.
  depends_on = [aws_s3_bucket_public_access_block.this]
}
