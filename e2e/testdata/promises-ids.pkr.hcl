# Issue 12: the post-processor on AMIs named with image_ids after a `null`
# build, with every option the promises of the docs depend on as a
# variable. The e2e harness points `endpoint` at the emulator (or, for the
# request timeout, at an endpoint that never answers).

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

variable "image_ids" {
  type = map(string)
}

variable "watermarks" {
  type    = list(string)
  default = ["golden"]
}

variable "dry_run" {
  type    = bool
  default = false
}

variable "require_allowed" {
  type    = bool
  default = false
}

variable "not_found_grace" {
  type    = string
  default = "2m"
}

variable "wait_timeout" {
  type    = string
  default = "30m"
}

variable "request_timeout" {
  type    = string
  default = "30s"
}

variable "max_retries" {
  type    = number
  default = 2
}

source "null" "ids" {
  communicator = "none"
}

build {
  sources = ["source.null.ids"]

  post-processor "amiwatermark" {
    region              = "us-east-1"
    access_key          = "AKIDTEST111122223333"
    secret_key          = "e2e-not-a-secret"
    custom_endpoint_ec2 = var.endpoint
    max_retries         = var.max_retries
    request_timeout     = var.request_timeout

    image_ids       = var.image_ids
    watermarks      = var.watermarks
    dry_run         = var.dry_run
    require_allowed = var.require_allowed
    not_found_grace = var.not_found_grace
    wait_timeout    = var.wait_timeout
  }
}
