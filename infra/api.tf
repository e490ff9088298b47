# API Gateway HTTP API in front of the api function. Routes that need a signed-in user have
# the Cognito JWT authorizer; the function verifies the token again (the same Router as
# embedded mode). Public routes still pass an Authorization header through (an owner sees
# their own processing video).
locals {
  api_routes = {
    "GET /api/videos"         = false
    "GET /api/videos/{id}"    = false
    "GET /healthz"            = false
    "GET /openapi.json"       = false
    "POST /api/uploads"       = true
    "POST /api/videos"        = true
    "DELETE /api/videos/{id}" = true
    "GET /api/me"             = true
    "GET /api/me/videos"      = true
  }
}

resource "aws_apigatewayv2_api" "http" {
  name          = var.name_prefix
  protocol_type = "HTTP"
  cors_configuration {
    allow_origins  = local.web_origins
    allow_methods  = ["GET", "POST", "DELETE", "OPTIONS"]
    allow_headers  = ["authorization", "content-type", "x-request-id"]
    expose_headers = ["x-request-id"]
    max_age        = 3600
  }
}

resource "aws_apigatewayv2_authorizer" "cognito" {
  api_id           = aws_apigatewayv2_api.http.id
  name             = "cognito"
  authorizer_type  = "JWT"
  identity_sources = ["$request.header.Authorization"]
  jwt_configuration {
    issuer   = "https://cognito-idp.${var.region}.amazonaws.com/${aws_cognito_user_pool.users.id}"
    audience = [aws_cognito_user_pool_client.web.id]
  }
}

resource "aws_apigatewayv2_integration" "api" {
  api_id                 = aws_apigatewayv2_api.http.id
  integration_type       = "AWS_PROXY"
  integration_uri        = aws_lambda_function.this["api"].invoke_arn
  payload_format_version = "2.0"
}

resource "aws_apigatewayv2_route" "api" {
  #checkov:skip=CKV_AWS_309:Public routes (the done-video listing, one video, health, the OpenAPI document) are public by design; the others use the JWT authorizer.
  for_each           = local.api_routes
  api_id             = aws_apigatewayv2_api.http.id
  route_key          = each.key
  target             = "integrations/${aws_apigatewayv2_integration.api.id}"
  authorization_type = each.value ? "JWT" : "NONE"
  authorizer_id      = each.value ? aws_apigatewayv2_authorizer.cognito.id : null
}

resource "aws_cloudwatch_log_group" "api_access" {
  #checkov:skip=CKV_AWS_158:Logs are encrypted by CloudWatch's own key; a KMS key would cost at idle and logs hold no secrets.
  name              = "/aws/apigateway/${var.name_prefix}"
  retention_in_days = var.log_retention_days
}

resource "aws_apigatewayv2_stage" "default" {
  api_id      = aws_apigatewayv2_api.http.id
  name        = "$default"
  auto_deploy = true
  default_route_settings {
    throttling_burst_limit = 200
    throttling_rate_limit  = 100
  }
  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.api_access.arn
    format = jsonencode({
      requestId = "$context.requestId", ip = "$context.identity.sourceIp", time = "$context.requestTime"
      method    = "$context.httpMethod", path = "$context.path", status = "$context.status"
      latencyMs = "$context.responseLatency", error = "$context.integrationErrorMessage"
    })
  }
}

resource "aws_lambda_permission" "api" {
  statement_id  = "api-gateway"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.this["api"].function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_apigatewayv2_api.http.execution_arn}/*/*"
}
