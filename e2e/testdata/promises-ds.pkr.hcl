# Issue 12, item 4: the data source against an endpoint that never answers
# fails within request_timeout × attempts.

packer {
  required_plugins {
    amiwatermark = {
      source  = "github.com/amiwatermark/amiwatermark"
      version = ">= 0.1.0"
    }
  }
}

variable "endpoint" {
  type = string
}

variable "request_timeout" {
  type    = string
  default = "30s"
}

data "amiwatermark" "base" {
  region              = "us-east-1"
  access_key          = "AKIDTEST111122223333"
  secret_key          = "e2e-not-a-secret"
  custom_endpoint_ec2 = var.endpoint
  max_retries         = 1
  request_timeout     = var.request_timeout

  watermark_keys = ["111122223333:golden-base"]
  owners         = ["self"]
}

source "null" "x" {
  communicator = "none"
}

build {
  sources = ["source.null.x"]

  post-processor "manifest" {
    output = "manifest.json"
    custom_data = {
      id = data.amiwatermark.base.id
    }
  }
}
