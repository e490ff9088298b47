variable "region" {
  description = "AWS region of the whole stack."
  type        = string
  default     = "us-east-1"
}

variable "name_prefix" {
  description = "Prefix of every resource name; two stacks in one account need two prefixes."
  type        = string
  default     = "vodpipe"
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,20}$", var.name_prefix))
    error_message = "name_prefix: 2 to 21 characters, lowercase letters, digits and '-', starting with a letter."
  }
}

variable "upload_max_bytes" {
  description = "Largest upload the presigned form allows, in bytes (the original's 100 MB)."
  type        = number
  default     = 104857600
  validation {
    condition     = var.upload_max_bytes >= 1048576 && var.upload_max_bytes <= 5368709120
    error_message = "upload_max_bytes: between 1 MiB and 5 GiB (a single S3 POST)."
  }
}

variable "policy_prefix" {
  description = "Where the policy bundles live in the policy bucket (`vodpipe policy publish` writes there)."
  type        = string
  default     = "policy"
}

variable "abandoned_upload_days" {
  description = "Uploads never processed (published uploads are deleted at once) expire after this many days."
  type        = number
  default     = 2
}

variable "log_retention_days" {
  description = "Retention of the functions' and the API's logs."
  type        = number
  default     = 365
}

variable "lambda_dir" {
  description = "Directory holding api.zip, on-upload.zip and on-job-state.zip (scripts/build-lambdas)."
  type        = string
  default     = "../out/lambda"
}

variable "web_dir" {
  description = "The web front end's static export (web/out); uploaded when present."
  type        = string
  default     = "../web/out"
}

variable "cors_origins" {
  description = "Origins besides the stack's own web front end allowed to call the API and post uploads (e.g. http://localhost:3000 while developing)."
  type        = list(string)
  default     = []
}

variable "alarm_email" {
  description = "Where alarms are mailed; none when empty (the SNS topic is there to subscribe to)."
  type        = string
  default     = ""
}

variable "force_destroy" {
  description = "Let `terraform destroy` empty the buckets and drop the table. scripts/deploy destroy sets it."
  type        = bool
  default     = false
}

variable "load_precompiled_plugins" {
  description = "Load the plugin artifacts `vodpipe policy publish` precompiles (no compiling on a cold start). They are native code: whoever can write the policy bucket can then run code in the functions, as whoever deploys them can. false: the functions always compile, and publishers change policy only inside the sandbox."
  type        = bool
  default     = true
}
