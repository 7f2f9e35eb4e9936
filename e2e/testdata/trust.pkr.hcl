# Issue 23: the post-processor on given AMIs (image_ids) after a null build,
# with the options the trust scenarios vary: a criteria file read at
# `packer validate` (bounded, one JSON value), and a rebuild whose detach the
# account denies (the permission check refuses it before any change).

packer {
  required_plugins {
    amiwatermark = {
      source  = "github.com/amiwatermark/amiwatermark"
      version = ">= 0.1.0"
    }
  }
}

variable "endpoint" {
  type    = string
  default = "http://127.0.0.1:9"
}

variable "image_ids" {
  type    = map(string)
  default = { "us-east-1" = "ami-0123456789abcdef0" }
}

variable "watermarks" {
  type    = list(string)
  default = ["golden-base"]
}

variable "reattach_inherited" {
  type    = bool
  default = null
}

variable "allowed_criteria_file" {
  type    = string
  default = null
}

source "null" "x" {
  communicator = "none"
}

build {
  sources = ["source.null.x"]

  post-processor "amiwatermark" {
    access_key          = "AKIDTEST111122223333"
    secret_key          = "e2e-not-a-secret"
    custom_endpoint_ec2 = var.endpoint
    max_retries         = 2

    image_ids             = var.image_ids
    watermarks            = var.watermarks
    reattach_inherited    = var.reattach_inherited
    allowed_criteria_file = var.allowed_criteria_file
  }
}
