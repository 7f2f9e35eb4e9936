# Issue 7, security: the data source and the post-processor run with static
# credentials and a session token given as ordinary (not sensitive)
# variables; e2e/security_test.go runs it with PACKER_LOG=1 and checks that
# none of the three appears in the output.

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

variable "access_key" {
  type = string
}

variable "secret_key" {
  type = string
}

variable "token" {
  type = string
}

variable "account" {
  type = string
}

variable "names" {
  type    = list(string)
  default = ["sec-approved"]
}

data "amiwatermark" "base" {
  region              = "us-east-1"
  access_key          = var.access_key
  secret_key          = var.secret_key
  token               = var.token
  custom_endpoint_ec2 = var.endpoint
  max_retries         = 1

  watermark_keys = ["${var.account}:sec-base"]
  owners         = ["self"]
}

source "null" "x" {
  communicator = "none"
}

build {
  sources = ["source.null.x"]

  post-processor "amiwatermark" {
    access_key          = var.access_key
    secret_key          = var.secret_key
    token               = var.token
    custom_endpoint_ec2 = var.endpoint
    max_retries         = 1

    image_ids  = { "us-east-1" = data.amiwatermark.base.id }
    watermarks = var.names
  }
}
