# verify.pkr.hcl — resolve the approved golden base, or fail.
#
# Step 3 of the release flow (see candidate.pkr.hcl). Downstream pipelines
# run this (or copy its data source) to learn which base to build on. The
# build fails with the whole query in the error message when no image meets
# every condition:
#   - it carries <build account>:approved, attached to that image itself
#     (lineage "attached": application images that inherited the key are not
#     bases),
#   - the approval is at most 30 days old (re-approve monthly),
#   - it also carries <build account>:golden-base (a server-side filter),
#   - it is owned by the build account.
# The answer is written to verify-manifest.json (manifest post-processor);
# `packer build` needs no instance and no tool beyond packer.
#
#   packer init verify.pkr.hcl && packer build -var build_account_id=123456789012 verify.pkr.hcl

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

variable "region" {
  type    = string
  default = "us-east-1"
}

variable "ec2_endpoint" {
  type        = string
  default     = ""
  description = "Leave empty for AWS. `make demo` points it at the local EC2 emulator."
}

variable "manifest" {
  type    = string
  default = "verify-manifest.json"
}

data "amiwatermark" "approved" {
  region              = var.region
  custom_endpoint_ec2 = var.ec2_endpoint

  watermark_keys         = ["${var.build_account_id}:approved"]
  owners                 = ["self"]
  lineage                = "attached"
  max_watermark_age_days = 30
  # Any DescribeImages filter; ANDed with the watermark key.
  filters = {
    "image-watermark.watermark-key" = "${var.build_account_id}:golden-base"
    "state"                         = "available"
  }
  # With the account's Allowed-AMIs setting in audit-mode or enabled, you can
  # also require that launches of the image are allowed:
  # allowed_only = true
}

source "null" "verify" {
  communicator = "none"
}

build {
  sources = ["source.null.verify"]

  post-processor "manifest" {
    output = var.manifest
    custom_data = {
      region           = var.region
      approved_id      = data.amiwatermark.approved.id
      approved_name    = data.amiwatermark.approved.name
      approved_created = data.amiwatermark.approved.creation_date
      approved_at      = data.amiwatermark.approved.matched_watermark.watermark_creation_time
      approved_key     = data.amiwatermark.approved.matched_watermark.key
      all_watermarks   = join(", ", [for w in data.amiwatermark.approved.watermarks : w.key])
    }
  }
}
