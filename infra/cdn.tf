# Two CloudFront distributions over private buckets (origin access control): media (HLS,
# cached long; playlists and segments never change once published) and the web front end.
resource "aws_cloudfront_origin_access_control" "s3" {
  name                              = "${var.name_prefix}-s3"
  origin_access_control_origin_type = "s3"
  signing_behavior                  = "always"
  signing_protocol                  = "sigv4"
}

data "aws_cloudfront_cache_policy" "optimized" {
  name = "Managed-CachingOptimized"
}

# Pages change with each deploy and keep their names: cached a minute. Next.js's hashed
# assets (/_next/static) never change and are cached for good.
resource "aws_cloudfront_cache_policy" "pages" {
  name        = "${var.name_prefix}-pages"
  min_ttl     = 0
  default_ttl = 60
  max_ttl     = 300
  parameters_in_cache_key_and_forwarded_to_origin {
    enable_accept_encoding_brotli = true
    enable_accept_encoding_gzip   = true
    cookies_config {
      cookie_behavior = "none"
    }
    headers_config {
      header_behavior = "none"
    }
    query_strings_config {
      query_string_behavior = "none"
    }
  }
}

data "aws_cloudfront_cache_policy" "disabled" {
  name = "Managed-CachingDisabled"
}

data "aws_cloudfront_origin_request_policy" "cors_s3" {
  name = "Managed-CORS-S3Origin"
}

# Players on any origin fetch playlists and segments (with ranges); security headers on all.
resource "aws_cloudfront_response_headers_policy" "media" {
  name = "${var.name_prefix}-media"
  cors_config {
    access_control_allow_credentials = false
    access_control_allow_headers {
      items = ["Range", "Origin"]
    }
    access_control_allow_methods {
      items = ["GET", "HEAD", "OPTIONS"]
    }
    access_control_allow_origins {
      items = ["*"]
    }
    access_control_expose_headers {
      items = ["Content-Length", "Content-Range", "Accept-Ranges"]
    }
    access_control_max_age_sec = 3600
    origin_override            = true
  }
  security_headers_config {
    content_type_options {
      override = true
    }
    strict_transport_security {
      access_control_max_age_sec = 31536000
      include_subdomains         = true
      preload                    = true
      override                   = true
    }
  }
}

resource "aws_cloudfront_response_headers_policy" "web" {
  name = "${var.name_prefix}-web"
  security_headers_config {
    content_type_options {
      override = true
    }
    frame_options {
      frame_option = "DENY"
      override     = true
    }
    referrer_policy {
      referrer_policy = "strict-origin-when-cross-origin"
      override        = true
    }
    strict_transport_security {
      access_control_max_age_sec = 31536000
      include_subdomains         = true
      preload                    = true
      override                   = true
    }
  }
}

resource "aws_cloudfront_distribution" "media" {
  #checkov:skip=CKV_AWS_68:WAF costs a monthly fee at idle; the media are public by URL, read-only and cached.
  #checkov:skip=CKV2_AWS_47:No WAF (see CKV_AWS_68).
  #checkov:skip=CKV_AWS_86:No standard logs (they need an ACL-enabled bucket); CloudFront metrics stay on.
  #checkov:skip=CKV_AWS_174:The default *.cloudfront.net certificate, which serves TLS 1.2+ to modern clients; a custom domain is left to the deployer.
  #checkov:skip=CKV2_AWS_42:The default *.cloudfront.net certificate (see CKV_AWS_174).
  #checkov:skip=CKV_AWS_310:One origin in one region; a failover origin would need replication (CKV_AWS_144).
  #checkov:skip=CKV_AWS_374:Audiences are worldwide; no geo restriction.
  #checkov:skip=CKV_AWS_305:Media have no root page; every URL names a playlist, segment or thumbnail.
  enabled         = true
  comment         = "${var.name_prefix} media"
  price_class     = "PriceClass_100"
  is_ipv6_enabled = true
  origin {
    origin_id                = "media"
    domain_name              = module.media.regional_domain_name
    origin_access_control_id = aws_cloudfront_origin_access_control.s3.id
  }
  default_cache_behavior {
    target_origin_id           = "media"
    viewer_protocol_policy     = "redirect-to-https"
    allowed_methods            = ["GET", "HEAD", "OPTIONS"]
    cached_methods             = ["GET", "HEAD", "OPTIONS"]
    cache_policy_id            = data.aws_cloudfront_cache_policy.optimized.id
    origin_request_policy_id   = data.aws_cloudfront_origin_request_policy.cors_s3.id
    response_headers_policy_id = aws_cloudfront_response_headers_policy.media.id
    compress                   = true
  }
  restrictions {
    geo_restriction {
      restriction_type = "none"
    }
  }
  viewer_certificate {
    cloudfront_default_certificate = true
  }
}

resource "aws_cloudfront_function" "web_index" {
  name    = "${var.name_prefix}-web-index"
  runtime = "cloudfront-js-2.0"
  comment = "Pages are directories with an index.html"
  publish = true
  code    = file("${path.module}/web-index.js")
}

resource "aws_cloudfront_distribution" "web" {
  #checkov:skip=CKV_AWS_68:WAF costs a monthly fee at idle; the site is static and the API has its own throttling.
  #checkov:skip=CKV2_AWS_47:No WAF (see CKV_AWS_68).
  #checkov:skip=CKV_AWS_86:No standard logs (they need an ACL-enabled bucket); CloudFront metrics stay on.
  #checkov:skip=CKV_AWS_174:The default *.cloudfront.net certificate, which serves TLS 1.2+ to modern clients; a custom domain is left to the deployer.
  #checkov:skip=CKV2_AWS_42:The default *.cloudfront.net certificate (see CKV_AWS_174).
  #checkov:skip=CKV_AWS_310:One origin in one region; the site is rebuilt by a deploy.
  #checkov:skip=CKV_AWS_374:Audiences are worldwide; no geo restriction.
  enabled             = true
  comment             = "${var.name_prefix} web"
  price_class         = "PriceClass_100"
  is_ipv6_enabled     = true
  default_root_object = "index.html"
  origin {
    origin_id                = "web"
    domain_name              = module.web.regional_domain_name
    origin_access_control_id = aws_cloudfront_origin_access_control.s3.id
  }
  default_cache_behavior {
    target_origin_id           = "web"
    viewer_protocol_policy     = "redirect-to-https"
    allowed_methods            = ["GET", "HEAD"]
    cached_methods             = ["GET", "HEAD"]
    cache_policy_id            = aws_cloudfront_cache_policy.pages.id
    response_headers_policy_id = aws_cloudfront_response_headers_policy.web.id
    compress                   = true
    function_association {
      event_type   = "viewer-request"
      function_arn = aws_cloudfront_function.web_index.arn
    }
  }
  ordered_cache_behavior {
    path_pattern               = "/_next/static/*"
    target_origin_id           = "web"
    viewer_protocol_policy     = "redirect-to-https"
    allowed_methods            = ["GET", "HEAD"]
    cached_methods             = ["GET", "HEAD"]
    cache_policy_id            = data.aws_cloudfront_cache_policy.optimized.id
    response_headers_policy_id = aws_cloudfront_response_headers_policy.web.id
    compress                   = true
  }
  # Read at every page load: a redeploy's new endpoints apply at once.
  ordered_cache_behavior {
    path_pattern               = "/config.json"
    target_origin_id           = "web"
    viewer_protocol_policy     = "redirect-to-https"
    allowed_methods            = ["GET", "HEAD"]
    cached_methods             = ["GET", "HEAD"]
    cache_policy_id            = data.aws_cloudfront_cache_policy.disabled.id
    response_headers_policy_id = aws_cloudfront_response_headers_policy.web.id
  }
  # Pages are exported as <page>.html; S3 answers 403 for a missing key.
  custom_error_response {
    error_code         = 403
    response_code      = 404
    response_page_path = "/404.html"
  }
  restrictions {
    geo_restriction {
      restriction_type = "none"
    }
  }
  viewer_certificate {
    cloudfront_default_certificate = true
  }
}

locals {
  web_url     = "https://${aws_cloudfront_distribution.web.domain_name}"
  media_url   = "https://${aws_cloudfront_distribution.media.domain_name}"
  web_origins = concat([local.web_url], var.cors_origins)
}
