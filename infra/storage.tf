# Five private buckets (modules/private-bucket). uploads: raw uploads (key = video id),
# expired when abandoned. media: the published HLS, read only by CloudFront. policy: the
# policy bundles. web: the front end's static export, read only by CloudFront. logs: the
# others' access logs.
module "uploads" {
  source          = "./modules/private-bucket"
  name            = "${local.bucket_prefix}-uploads"
  force_destroy   = var.force_destroy
  noncurrent_days = 1
  expire_days     = var.abandoned_upload_days
  log_bucket      = module.logs.id
}

module "media" {
  source           = "./modules/private-bucket"
  name             = "${local.bucket_prefix}-media"
  force_destroy    = var.force_destroy
  noncurrent_days  = 30
  log_bucket       = module.logs.id
  policy_documents = [data.aws_iam_policy_document.cloudfront_reads["media"].json]
}

module "policy" {
  source          = "./modules/private-bucket"
  name            = "${local.bucket_prefix}-policy"
  force_destroy   = var.force_destroy
  noncurrent_days = 365
  log_bucket      = module.logs.id
}

module "web" {
  source           = "./modules/private-bucket"
  name             = "${local.bucket_prefix}-web"
  force_destroy    = var.force_destroy
  noncurrent_days  = 7
  log_bucket       = module.logs.id
  policy_documents = [data.aws_iam_policy_document.cloudfront_reads["web"].json]
}

module "logs" {
  source           = "./modules/private-bucket"
  name             = "${local.bucket_prefix}-logs"
  force_destroy    = var.force_destroy
  noncurrent_days  = 1
  expire_days      = var.log_retention_days
  policy_documents = [data.aws_iam_policy_document.access_logs.json]
}

# CloudFront reads media and web through its origin access control, each only for its own
# distribution.
data "aws_iam_policy_document" "cloudfront_reads" {
  for_each = {
    media = { bucket = "${local.bucket_prefix}-media", distribution = aws_cloudfront_distribution.media.arn }
    web   = { bucket = "${local.bucket_prefix}-web", distribution = aws_cloudfront_distribution.web.arn }
  }
  statement {
    sid       = "CloudFrontReads"
    actions   = ["s3:GetObject"]
    resources = ["arn:${local.partition}:s3:::${each.value.bucket}/*"]
    principals {
      type        = "Service"
      identifiers = ["cloudfront.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "AWS:SourceArn"
      values   = [each.value.distribution]
    }
  }
}

data "aws_iam_policy_document" "access_logs" {
  statement {
    sid       = "AccessLogs"
    actions   = ["s3:PutObject"]
    resources = ["arn:${local.partition}:s3:::${local.bucket_prefix}-logs/s3/*"]
    principals {
      type        = "Service"
      identifiers = ["logging.s3.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account]
    }
  }
}

# Browsers post upload forms straight to the uploads bucket.
resource "aws_s3_bucket_cors_configuration" "uploads" {
  bucket = module.uploads.id
  cors_rule {
    allowed_methods = ["POST"]
    allowed_origins = local.web_origins
    allowed_headers = ["*"]
    expose_headers  = ["ETag"]
    max_age_seconds = 3600
  }
}

# Every new upload notifies the upload queue; on-upload takes it from there.
resource "aws_s3_bucket_notification" "uploads" {
  bucket = module.uploads.id
  queue {
    queue_arn = aws_sqs_queue.work["uploads"].arn
    events    = ["s3:ObjectCreated:*"]
  }
  depends_on = [aws_sqs_queue_policy.work]
}

# The web front end's static export and the config.json it reads at run time.
locals {
  web_files = fileexists("${var.web_dir}/index.html") ? fileset(var.web_dir, "**") : toset([])
  content_types = {
    html  = "text/html; charset=utf-8", js = "text/javascript", css = "text/css", json = "application/json"
    svg   = "image/svg+xml", png = "image/png", jpg = "image/jpeg", ico = "image/x-icon", txt = "text/plain"
    woff2 = "font/woff2", map = "application/json", webmanifest = "application/manifest+json"
  }
}

resource "aws_s3_object" "web" {
  for_each     = { for file in local.web_files : file => file if file != "config.json" }
  bucket       = module.web.id
  key          = each.value
  source       = "${var.web_dir}/${each.value}"
  etag         = filemd5("${var.web_dir}/${each.value}")
  content_type = lookup(local.content_types, reverse(split(".", each.value))[0], "application/octet-stream")
}

resource "aws_s3_object" "web_config" {
  bucket        = module.web.id
  key           = "config.json"
  content_type  = "application/json"
  cache_control = "no-cache"
  content       = jsonencode(local.web_config)
}
