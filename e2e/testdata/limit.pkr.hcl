# Scenario 2: one AMI already carries 4 watermarks (inherited ones count) and
# two more names are requested. The whole run must be refused before the first
# attach, in every region.

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

variable "full_ami" {
  type        = string
  description = "us-east-1 AMI that already has 4 watermarks."
}

variable "other_ami" {
  type        = string
  description = "eu-west-1 AMI with room for more watermarks."
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

    image_ids = {
      "us-east-1" = var.full_ami
      "eu-west-1" = var.other_ami
    }
    watermarks = ["candidate", "ci-passed"]
  }
}
