locals {
  api_url = aws_apigatewayv2_api.http.api_endpoint
  # What the web front end reads at run time (web/public/config.json in embedded mode).
  web_config = {
    mode           = "aws"
    apiBaseUrl     = local.api_url
    mediaBaseUrl   = local.media_url
    maxUploadBytes = var.upload_max_bytes
    cognito = {
      region     = var.region
      userPoolId = aws_cognito_user_pool.users.id
      clientId   = aws_cognito_user_pool_client.web.id
    }
  }
}

output "api_url" {
  description = "The HTTP API's base URL."
  value       = local.api_url
}

output "web_url" {
  description = "The web front end."
  value       = local.web_url
}

output "media_url" {
  description = "Where media are served (CloudFront)."
  value       = local.media_url
}

output "user_pool_id" {
  value = aws_cognito_user_pool.users.id
}

output "user_pool_client_id" {
  value = aws_cognito_user_pool_client.web.id
}

output "policy_bucket" {
  description = "For `vodpipe policy publish --bucket`."
  value       = module.policy.id
}

output "policy_prefix" {
  value = var.policy_prefix
}

output "region" {
  value = var.region
}

output "web_config" {
  description = "The config.json the web front end reads (also written to the web bucket)."
  value       = local.web_config
}
