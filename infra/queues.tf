# Two work queues, each with a dead-letter queue: S3 upload notifications for on-upload,
# MediaConvert job-state events (through EventBridge) for on-job-state.
locals {
  queues = {
    uploads   = { function = "on-upload", sender = "s3.amazonaws.com", source_arn = module.uploads.arn }
    job-state = { function = "on-job-state", sender = "events.amazonaws.com", source_arn = aws_cloudwatch_event_rule.job_state.arn }
  }
  # A message that failed this many times goes to the dead-letter queue. The functions get
  # the same number (VODPIPE_MAX_RECEIVES): a failure on the last delivery fails the video.
  max_receives = 5
}

resource "aws_sqs_queue" "dead" {
  for_each                  = local.queues
  name                      = "${var.name_prefix}-${each.key}-dlq"
  message_retention_seconds = 1209600
  sqs_managed_sse_enabled   = true
}

resource "aws_sqs_queue" "work" {
  for_each = local.queues
  name     = "${var.name_prefix}-${each.key}"
  # Six times the consumer's timeout, as Lambda's SQS mapping advises.
  visibility_timeout_seconds = 6 * local.functions[each.value.function].timeout
  message_retention_seconds  = 345600
  sqs_managed_sse_enabled    = true
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dead[each.key].arn
    maxReceiveCount     = local.max_receives
  })
}

resource "aws_sqs_queue_redrive_allow_policy" "dead" {
  for_each  = local.queues
  queue_url = aws_sqs_queue.dead[each.key].id
  redrive_allow_policy = jsonencode({
    redrivePermission = "byQueue"
    sourceQueueArns   = [aws_sqs_queue.work[each.key].arn]
  })
}

# Only the uploads bucket may send to the upload queue, only the job-state rule to the
# job-state queue; TLS only.
data "aws_iam_policy_document" "queue" {
  for_each = local.queues
  statement {
    sid       = "OnlyItsSource"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.work[each.key].arn]
    principals {
      type        = "Service"
      identifiers = [each.value.sender]
    }
    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [each.value.source_arn]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account]
    }
  }
  statement {
    sid       = "TlsOnly"
    effect    = "Deny"
    actions   = ["sqs:*"]
    resources = [aws_sqs_queue.work[each.key].arn]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_sqs_queue_policy" "work" {
  for_each  = local.queues
  queue_url = aws_sqs_queue.work[each.key].id
  policy    = data.aws_iam_policy_document.queue[each.key].json
}

# MediaConvert announces every job's state changes; the rule passes on only this stack's
# jobs (its queue) in a final state. The same pattern is tested on moto's EventBridge
# (host/lambda/tests/functions.rs).
resource "aws_cloudwatch_event_rule" "job_state" {
  name        = "${var.name_prefix}-job-state"
  description = "MediaConvert jobs of ${var.name_prefix} that completed or failed"
  event_pattern = templatefile("${path.module}/job-state-pattern.json.tftpl", {
    queue_arn = aws_media_convert_queue.jobs.arn
  })
}

resource "aws_cloudwatch_event_target" "job_state" {
  rule      = aws_cloudwatch_event_rule.job_state.name
  target_id = "job-state-queue"
  arn       = aws_sqs_queue.work["job-state"].arn
}
