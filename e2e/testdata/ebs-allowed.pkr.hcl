# Issue 8, scenario 3: a workload account (444455556666) with Allowed AMIs
# enabled and a criterion that requires the golden watermark of the image
# factory account (111122223333).
#
# By default source_ami comes from the data source with allowed_only = true:
# it can only return an image the workload account's settings allow, so the
# build launches. Passing source_ami (a hard-coded id, e.g. an unwatermarked
# public base) bypasses that: EC2 hides images that are not allowed, so the
# builder's first look-up of the id fails with InvalidAMIID.NotFound, and a
# launch would fail with the same error.

packer {
  required_plugins {
    amiwatermark = {
      source  = "github.com/amiwatermark/amiwatermark"
      version = ">= 0.1.0"
    }
    amazon = {
      source  = "github.com/hashicorp/amazon"
      version = "~> 1"
    }
  }
}

variable "endpoint" {
  type = string
}

variable "source_ami" {
  type        = string
  default     = ""
  description = "Overrides the data source when set."
}

variable "ami_name" {
  type    = string
  default = "workload-app"
}

variable "manifest" {
  type    = string
  default = "manifest.json"
}

data "amiwatermark" "golden" {
  region              = "us-east-1"
  access_key          = "AKIDTEST444455556666"
  secret_key          = "e2e-not-a-secret"
  custom_endpoint_ec2 = var.endpoint
  max_retries         = 2

  watermark_keys = ["111122223333:golden-base"]
  owners         = ["111122223333"]
  allowed_only   = true
}

source "amazon-ebs" "workload" {
  region              = "us-east-1"
  access_key          = "AKIDTEST444455556666"
  secret_key          = "e2e-not-a-secret"
  custom_endpoint_ec2 = var.endpoint

  source_ami    = var.source_ami != "" ? var.source_ami : data.amiwatermark.golden.id
  instance_type = "t3.micro"
  communicator  = "none"
  ami_name      = "${var.ami_name}-{{timestamp}}"
}

build {
  sources = ["source.amazon-ebs.workload"]

  post-processor "manifest" {
    output = var.manifest
    custom_data = {
      golden_id      = data.amiwatermark.golden.id
      golden_allowed = data.amiwatermark.golden.image_allowed
    }
  }
}
