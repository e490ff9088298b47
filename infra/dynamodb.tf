# The videos table as vodpipe_aws::dynamo expects it: hash key `id`; sparse indexes
# `listed-newest` (done videos, newest first) and `owner-newest` (a user's videos).
resource "aws_dynamodb_table" "videos" {
  #checkov:skip=CKV_AWS_119:Encrypted with the AWS owned key: no KMS key cost at idle, nothing else reads the table.
  name                        = "${var.name_prefix}-videos"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "id"
  deletion_protection_enabled = !var.force_destroy

  attribute {
    name = "id"
    type = "S"
  }
  attribute {
    name = "created"
    type = "S"
  }
  attribute {
    name = "listed"
    type = "S"
  }
  attribute {
    name = "user_id"
    type = "S"
  }

  global_secondary_index {
    name            = "listed-newest"
    hash_key        = "listed"
    range_key       = "created"
    projection_type = "ALL"
  }
  global_secondary_index {
    name            = "owner-newest"
    hash_key        = "user_id"
    range_key       = "created"
    projection_type = "ALL"
  }

  point_in_time_recovery {
    enabled = true
  }
  server_side_encryption {
    enabled = true
  }
}
