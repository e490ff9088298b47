# This stack's jobs run in their own queue (the job-state rule matches on it) as a role that
# can read uploads and write media, nothing else.
resource "aws_media_convert_queue" "jobs" {
  name         = var.name_prefix
  pricing_plan = "ON_DEMAND"
  status       = "ACTIVE"
}

data "aws_iam_policy_document" "mediaconvert_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["mediaconvert.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account]
    }
  }
}

data "aws_iam_policy_document" "mediaconvert" {
  statement {
    sid       = "ReadUploads"
    actions   = ["s3:GetObject"]
    resources = ["${module.uploads.arn}/*"]
  }
  statement {
    sid       = "WriteMedia"
    actions   = ["s3:PutObject"]
    resources = ["${module.media.arn}/*"]
  }
}

resource "aws_iam_role" "mediaconvert" {
  name               = "${var.name_prefix}-mediaconvert"
  assume_role_policy = data.aws_iam_policy_document.mediaconvert_assume.json
}

resource "aws_iam_role_policy" "mediaconvert" {
  name   = "media"
  role   = aws_iam_role.mediaconvert.id
  policy = data.aws_iam_policy_document.mediaconvert.json
}
