terraform {
  required_version = ">= 1.5"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.80"
    }
  }
}

provider "aws" {
  region = var.region
  default_tags {
    tags = {
      Project = "vodpipe"
      Stack   = var.name_prefix
    }
  }
}

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  account   = data.aws_caller_identity.current.account_id
  partition = data.aws_partition.current.partition
  # Bucket names are global: the account id keeps two deployments of one prefix apart.
  bucket_prefix = "${var.name_prefix}-${local.account}-${var.region}"
}
