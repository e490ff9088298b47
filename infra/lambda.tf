# The three functions (scripts/build-lambdas builds their zips), each with its own role,
# log group and only the permissions it needs. Variables they read: host/lambda/src/config.rs.
locals {
  # Each function's environment spelled out (host/lambda/tests/infra.rs starts each binary
  # with exactly these variables).
  functions = {
    api = {
      timeout = 15
      memory  = 512
      env = {
        VODPIPE_TABLE                = aws_dynamodb_table.videos.name
        VODPIPE_UPLOADS_BUCKET       = module.uploads.id
        VODPIPE_MEDIA_BUCKET         = module.media.id
        VODPIPE_COGNITO_USER_POOL_ID = aws_cognito_user_pool.users.id
        VODPIPE_COGNITO_CLIENT_ID    = aws_cognito_user_pool_client.web.id
        VODPIPE_MEDIA_BASE_URL       = local.media_url
        VODPIPE_MAX_UPLOAD_BYTES     = tostring(var.upload_max_bytes)
      }
    }
    # Compiling a new policy bundle's plugins takes seconds of CPU: more memory, more CPU.
    on-upload = {
      timeout = 60
      memory  = 1024
      env = {
        VODPIPE_TABLE               = aws_dynamodb_table.videos.name
        VODPIPE_UPLOADS_BUCKET      = module.uploads.id
        VODPIPE_MEDIA_BUCKET        = module.media.id
        VODPIPE_POLICY_BUCKET       = module.policy.id
        VODPIPE_POLICY_PREFIX       = var.policy_prefix
        VODPIPE_MEDIACONVERT_ROLE   = aws_iam_role.mediaconvert.arn
        VODPIPE_MEDIACONVERT_QUEUE  = aws_media_convert_queue.jobs.arn
        VODPIPE_MAX_RECEIVES        = tostring(local.max_receives)
        VODPIPE_PRECOMPILED_PLUGINS = var.load_precompiled_plugins ? "load" : "off"
      }
    }
    on-job-state = {
      timeout = 60
      memory  = 1024
      env = {
        VODPIPE_TABLE               = aws_dynamodb_table.videos.name
        VODPIPE_UPLOADS_BUCKET      = module.uploads.id
        VODPIPE_MEDIA_BUCKET        = module.media.id
        VODPIPE_POLICY_BUCKET       = module.policy.id
        VODPIPE_POLICY_PREFIX       = var.policy_prefix
        VODPIPE_MAX_RECEIVES        = tostring(local.max_receives)
        VODPIPE_PRECOMPILED_PLUGINS = var.load_precompiled_plugins ? "load" : "off"
      }
    }
  }
  uploads_objects = "${module.uploads.arn}/*"
  media_objects   = "${module.media.arn}/*"
}

resource "aws_cloudwatch_log_group" "function" {
  #checkov:skip=CKV_AWS_158:Logs are encrypted by CloudWatch's own key; a KMS key would cost at idle and logs hold no secrets.
  for_each          = local.functions
  name              = "/aws/lambda/${var.name_prefix}-${each.key}"
  retention_in_days = var.log_retention_days
}

data "aws_iam_policy_document" "lambda_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "function" {
  for_each           = local.functions
  name               = "${var.name_prefix}-${each.key}"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
}

# What each function may do, as one table (`to`: which functions): its own log group (below),
# table operations, objects, queue, the job role. host/lambda/tests/infra.rs checks that no
# grant has a `*`.
locals {
  grants = [
    # api: the videos table and its indexes; signs upload forms (S3 accepts a form only if
    # its signer may put the object); deletes a video's upload.
    {
      to         = ["api"], sid = "Videos"
      actions    = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:Query"]
      resources  = [aws_dynamodb_table.videos.arn, "${aws_dynamodb_table.videos.arn}/index/*"]
      conditions = []
    },
    {
      to        = ["api"], sid = "Uploads", actions = ["s3:PutObject", "s3:GetObject", "s3:DeleteObject"]
      resources = [local.uploads_objects], conditions = []
    },
    # on-upload: reads the upload's header, records the video, submits the job as the job role;
    # deletes an upload that is not a video.
    {
      to        = ["on-upload"], sid = "ConsumeQueue"
      actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility"]
      resources = [aws_sqs_queue.work["uploads"].arn], conditions = []
    },
    {
      to        = ["on-upload"], sid = "Videos", actions = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
      resources = [aws_dynamodb_table.videos.arn], conditions = []
    },
    { to = ["on-upload"], sid = "ReadUploads", actions = ["s3:GetObject"], resources = [local.uploads_objects], conditions = [] },
    # Without it S3 answers 403 for an upload that is gone, which reads as an outage (retried
    # to the last delivery) instead of 404: nothing to do.
    { to = ["on-upload"], sid = "ListUploads", actions = ["s3:ListBucket"], resources = [module.uploads.arn], conditions = [] },
    {
      to        = ["on-upload"], sid = "SubmitJobs", actions = ["mediaconvert:CreateJob"]
      resources = [aws_media_convert_queue.jobs.arn], conditions = []
    },
    {
      to         = ["on-upload"], sid = "PassTheJobRole", actions = ["iam:PassRole"], resources = [aws_iam_role.mediaconvert.arn]
      conditions = [{ test = "StringEquals", variable = "iam:PassedToService", values = ["mediaconvert.amazonaws.com"] }]
    },
    # on-job-state: finishes the video, deletes the upload (a grant on-upload shares).
    {
      to        = ["on-job-state"], sid = "ConsumeQueue"
      actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility"]
      resources = [aws_sqs_queue.work["job-state"].arn], conditions = []
    },
    {
      to        = ["on-job-state"], sid = "Videos", actions = ["dynamodb:GetItem", "dynamodb:UpdateItem"]
      resources = [aws_dynamodb_table.videos.arn], conditions = []
    },
    {
      to        = ["on-upload", "on-job-state"], sid = "DeleteUploads", actions = ["s3:DeleteObject"]
      resources = [local.uploads_objects], conditions = []
    },
    # The SQS functions run the policy bundles (listing limited to their prefix).
    {
      to        = ["on-upload", "on-job-state"], sid = "ReadPolicyBundles", actions = ["s3:GetObject"]
      resources = ["${module.policy.arn}/${var.policy_prefix}/*"], conditions = []
    },
    {
      to         = ["on-upload", "on-job-state"], sid = "ListPolicyBundles", actions = ["s3:ListBucket"], resources = [module.policy.arn]
      conditions = [{ test = "StringLike", variable = "s3:prefix", values = ["${var.policy_prefix}/*"] }]
    },
    # api and on-job-state remove a deleted video's media.
    { to = ["api", "on-job-state"], sid = "ListMedia", actions = ["s3:ListBucket"], resources = [module.media.arn], conditions = [] },
    {
      to        = ["api", "on-job-state"], sid = "DeleteMedia", actions = ["s3:DeleteObject"]
      resources = [local.media_objects], conditions = []
    },
  ]
}

data "aws_iam_policy_document" "function" {
  for_each = local.functions

  statement {
    sid       = "OwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.function[each.key].arn}:*"]
  }

  dynamic "statement" {
    for_each = [for grant in local.grants : grant if contains(grant.to, each.key)]
    content {
      sid       = statement.value.sid
      actions   = statement.value.actions
      resources = statement.value.resources
      dynamic "condition" {
        for_each = statement.value.conditions
        content {
          test     = condition.value.test
          variable = condition.value.variable
          values   = condition.value.values
        }
      }
    }
  }
}

resource "aws_iam_role_policy" "function" {
  for_each = local.functions
  name     = "function"
  role     = aws_iam_role.function[each.key].id
  policy   = data.aws_iam_policy_document.function[each.key].json
}

resource "aws_lambda_function" "this" {
  #checkov:skip=CKV_AWS_50:X-Ray needs xray:PutTraceSegments on every resource ("*"), which this stack's IAM rule forbids; log lines carry request ids.
  #checkov:skip=CKV_AWS_115:Reserved concurrency fails on new accounts (10 unreserved required); the SQS mappings cap concurrency and API Gateway throttles the api.
  #checkov:skip=CKV_AWS_116:No asynchronous invocations: the SQS queues have dead-letter queues, the api answers synchronously.
  #checkov:skip=CKV_AWS_117:The functions reach only AWS endpoints; a VPC would need NAT gateways or endpoints, a cost at idle.
  #checkov:skip=CKV_AWS_173:The environment holds names and ARNs only, no secrets.
  #checkov:skip=CKV_AWS_272:The zips are built and deployed by the same command (scripts/deploy); no signing profile.
  for_each         = local.functions
  function_name    = "${var.name_prefix}-${each.key}"
  role             = aws_iam_role.function[each.key].arn
  filename         = "${var.lambda_dir}/${each.key}.zip"
  source_code_hash = filebase64sha256("${var.lambda_dir}/${each.key}.zip")
  runtime          = "provided.al2023"
  architectures    = ["x86_64"]
  handler          = "bootstrap"
  timeout          = each.value.timeout
  memory_size      = each.value.memory
  environment {
    variables = each.value.env
  }
  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.function[each.key].name
  }
  depends_on = [aws_iam_role_policy.function]
}

resource "aws_lambda_event_source_mapping" "queue" {
  for_each                           = local.queues
  event_source_arn                   = aws_sqs_queue.work[each.key].arn
  function_name                      = aws_lambda_function.this[each.value.function].arn
  batch_size                         = 10
  maximum_batching_window_in_seconds = 1
  function_response_types            = ["ReportBatchItemFailures"]
  scaling_config {
    maximum_concurrency = 10
  }
}
