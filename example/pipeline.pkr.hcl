# pipeline.pkr.hcl — an application image built on the approved golden base.
#
# The amazon-ebs source takes its source_ami from the amiwatermark data source
# (the newest image carrying <build account>:approved, attached to that image
# itself), and the amiwatermark post-processor attaches `app-web` to every AMI
# the build produced, in every region of ami_regions. The new image also
# inherits the base's watermarks (golden-base, approved) through CreateImage;
# they count toward the limit of 5 per image, which the post-processor checks
# before it attaches anything.
#
# This template starts a real EC2 instance, so `make demo` and the tests only
# run `packer validate` on it.
#
#   packer init pipeline.pkr.hcl && packer build pipeline.pkr.hcl

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
  description = "Leave empty for AWS."
}

data "amiwatermark" "base" {
  region              = var.region
  custom_endpoint_ec2 = var.ec2_endpoint

  watermark_keys = ["${var.build_account_id}:approved"]
  owners         = ["self"]
  lineage        = "attached"
}

source "amazon-ebs" "app" {
  region        = var.region
  source_ami    = data.amiwatermark.base.id
  instance_type = "t3.micro"
  ssh_username  = "ec2-user"
  ami_name      = "app-web-{{timestamp}}"
  ami_regions   = ["eu-west-1"]
  tags = {
    base_ami  = data.amiwatermark.base.id
    base_name = data.amiwatermark.base.name
  }
}

build {
  sources = ["source.amazon-ebs.app"]

  provisioner "shell" {
    inline = ["echo installing the application"]
  }

  post-processor "amiwatermark" {
    # Each AMI's region comes from the artifact (us-east-1 and the ami_regions
    # copy); no image_ids needed.
    watermarks = ["app-web"]
    # A failed watermarking must not make Packer deregister the new AMIs:
    # with fail_on_error = false a failure is a warning and the AMIs are kept.
    # fail_on_error = false
  }
}
