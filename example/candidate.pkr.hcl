# candidate.pkr.hcl — pick this week's golden base and mark it `candidate`.
#
# Step 1 of the release flow that `make demo` runs:
#   candidate.pkr.hcl  select the newest golden base, attach `candidate`   (this file)
#   promote.pkr.hcl    after the tests pass: detach `candidate`, attach `approved`
#   verify.pkr.hcl     resolve the approved base, fail if there is none
#   pipeline.pkr.hcl   an application build on top of the approved base (amazon-ebs)
#
# The base pipeline (not shown) attaches the watermark `golden-base` to every
# base image it builds, in the build account. Watermarks are copied by
# CopyImage and CreateImage, so every image *derived* from a base carries
# `golden-base` too; `lineage = "attached"` is what keeps those out.
#
# No instance is started: a `null` build hands the selected AMI ids to the
# post-processor through `image_ids`.
#
#   packer init candidate.pkr.hcl && packer build -var build_account_id=123456789012 candidate.pkr.hcl

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
  type        = string
  default     = "111122223333"
  description = "The account that builds and watermarks your golden images. Watermark keys are matched on this literal id: nobody else can attach a watermark with it."
}

variable "primary_region" {
  type    = string
  default = "us-east-1"
}

variable "copy_region" {
  type        = string
  default     = "eu-west-1"
  description = "A region the base pipeline copies each base to (CopyImage keeps the watermarks)."
}

variable "ec2_endpoint" {
  type        = string
  default     = ""
  description = "Leave empty for AWS. `make demo` points it at the local EC2 emulator."
}

variable "manifest" {
  type    = string
  default = "candidate-manifest.json"
}

# The newest base image in the primary region that carries the key
# <build account>:golden-base, attached to that very image.
data "amiwatermark" "base_primary" {
  region              = var.primary_region
  custom_endpoint_ec2 = var.ec2_endpoint

  watermark_keys = ["${var.build_account_id}:golden-base"]
  # Only images owned by the build account: an account that may launch your
  # base could otherwise build an image that inherits the watermark and share
  # it with you.
  owners = ["self"]
  # "attached" (the default): the image the watermark was attached to, or a
  # direct copy of it. Application images built on the base inherit the
  # watermark through CreateImage and are skipped; "any" would accept them.
  lineage = "attached"
}

# The same base, copied to the second region.
data "amiwatermark" "base_copy" {
  region              = var.copy_region
  custom_endpoint_ec2 = var.ec2_endpoint

  watermark_keys = ["${var.build_account_id}:golden-base"]
  owners         = ["self"]
  lineage        = "attached"
}

source "null" "candidate" {
  communicator = "none"
}

build {
  sources = ["source.null.candidate"]

  post-processor "amiwatermark" {
    custom_endpoint_ec2 = var.ec2_endpoint

    # region => AMI id. The artifact of a null build has no AMIs, so the ids
    # are given here; after an amazon-ebs build you would leave this out.
    image_ids = {
      (var.primary_region) = data.amiwatermark.base_primary.id
      (var.copy_region)    = data.amiwatermark.base_copy.id
    }
    # AWS adds the account id: this attaches <account>:candidate.
    watermarks = ["candidate"]
  }

  # Records what was selected, for people and for later steps.
  post-processor "manifest" {
    output = var.manifest
    custom_data = {
      primary_region       = var.primary_region
      primary_id           = data.amiwatermark.base_primary.id
      primary_name         = data.amiwatermark.base_primary.name
      primary_created      = data.amiwatermark.base_primary.creation_date
      primary_matched_key  = data.amiwatermark.base_primary.matched_watermark.key
      copy_region          = var.copy_region
      copy_id              = data.amiwatermark.base_copy.id
      copy_name            = data.amiwatermark.base_copy.name
      copy_source_image_id = data.amiwatermark.base_copy.matched_watermark.source_image_id
    }
  }
}
