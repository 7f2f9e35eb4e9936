# promote.pkr.hcl — promote the tested `candidate` to `approved`.
#
# Step 2 of the release flow (see candidate.pkr.hcl). Run it when the
# candidate's tests have passed. In each region it selects the newest image
# that carries <build account>:candidate, then the post-processor
#   1. detaches <build account>:candidate,
#   2. attaches approved (AWS makes the key <build account>:approved),
# after checking every AMI first: if any AMI cannot take the change (5
# watermarks already, public, not owned by the build account), nothing is
# changed anywhere.
#
# Detaching needs ec2:DetachImageWatermark. Give it only to this promotion
# role, never to the roles that build images (see the README).
#
#   packer init promote.pkr.hcl && packer build -var build_account_id=123456789012 promote.pkr.hcl

packer {
  required_plugins {
    amiwatermark = {
      source  = "github.com/amiwatermark/amiwatermark"
      version = ">= 0.1.0"
    }
    # Not used by this template: the flow's application build
    # (pipeline.pkr.hcl) needs it, so `packer init` on any step installs
    # every plugin of the flow.
    amazon = {
      source  = "github.com/hashicorp/amazon"
      version = "~> 1"
    }
  }
}

variable "build_account_id" {
  type    = string
  default = "111122223333"
}

variable "primary_region" {
  type    = string
  default = "us-east-1"
}

variable "copy_region" {
  type    = string
  default = "eu-west-1"
}

variable "ec2_endpoint" {
  type        = string
  default     = ""
  description = "Leave empty for AWS. `make demo` points it at the local EC2 emulator."
}

data "amiwatermark" "candidate_primary" {
  region              = var.primary_region
  custom_endpoint_ec2 = var.ec2_endpoint

  watermark_keys = ["${var.build_account_id}:candidate"]
  owners         = ["self"]
}

data "amiwatermark" "candidate_copy" {
  region              = var.copy_region
  custom_endpoint_ec2 = var.ec2_endpoint

  watermark_keys = ["${var.build_account_id}:candidate"]
  owners         = ["self"]
}

source "null" "promote" {
  communicator = "none"
}

build {
  sources = ["source.null.promote"]

  post-processor "amiwatermark" {
    custom_endpoint_ec2 = var.ec2_endpoint

    image_ids = {
      (var.primary_region) = data.amiwatermark.candidate_primary.id
      (var.copy_region)    = data.amiwatermark.candidate_copy.id
    }
    # A bare name means this account's key, <build account>:candidate.
    detach     = ["candidate"]
    watermarks = ["approved"]
  }
}
