# Issue 8, scenario 1 (second half): after the pipeline build, the data
# source with lineage = "attached" on the golden key must still return the
# golden base, not the newer application AMI that inherited the key. With
# lineage = "any" it returns the newest image carrying the key. A null build
# writes the data source's outputs to a manifest.

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

variable "base_key" {
  type    = string
  default = "111122223333:golden-base"
}

variable "lineage" {
  type    = string
  default = "attached"
}

variable "manifest" {
  type    = string
  default = "verify.json"
}

data "amiwatermark" "base" {
  region              = "us-east-1"
  access_key          = "AKIDTEST111122223333"
  secret_key          = "e2e-not-a-secret"
  custom_endpoint_ec2 = var.endpoint
  max_retries         = 2

  watermark_keys = [var.base_key]
  owners         = ["self"]
  lineage        = var.lineage
}

source "null" "verify" {
  communicator = "none"
}

build {
  sources = ["source.null.verify"]

  post-processor "manifest" {
    output = var.manifest
    custom_data = {
      id                   = data.amiwatermark.base.id
      matched_source_image = data.amiwatermark.base.matched_watermark.source_image_id
    }
  }
}
