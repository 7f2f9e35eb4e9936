# emulated-pipeline.pkr.hcl — pipeline.pkr.hcl as `make demo` runs it against
# the local EC2 emulator.
#
# The same flow: the amiwatermark data source picks the approved golden base,
# Packer's amazon-ebs builder launches an instance from it, images it
# (CreateImage) and copies the AMI to eu-west-1 (CopyImage); both new AMIs
# inherit the base's watermarks, and the amiwatermark post-processor attaches
# `app-web` to each. The emulator's instances are records, not machines, so
# this template has no SSH communicator and no provisioner: use
# pipeline.pkr.hcl against AWS.
#
# The amazon plugin (v1.8) needs three settings in packer's environment to run
# against the emulator (docs/emulator.md explains each):
#
#   export AWS_ENDPOINT_URL_STS=http://127.0.0.1:PORT  # it validates credentials with STS
#   export AWS_ENDPOINT_URL_EC2=http://127.0.0.1:PORT  # its ami_regions copy ignores custom_endpoint_ec2
#   export AWS_POLL_DELAY_SECONDS=1                    # fast waiters; 0 is refused by v1.8
#   packer init emulated-pipeline.pkr.hcl
#   packer build -var ec2_endpoint=http://127.0.0.1:PORT emulated-pipeline.pkr.hcl

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

variable "ec2_endpoint" {
  type        = string
  description = "URL of the EC2 emulator (make demo sets it)."
}

data "amiwatermark" "base" {
  region              = "us-east-1"
  custom_endpoint_ec2 = var.ec2_endpoint

  watermark_keys = ["${var.build_account_id}:approved"]
  owners         = ["self"]
  lineage        = "attached"
}

source "amazon-ebs" "app" {
  region              = "us-east-1"
  custom_endpoint_ec2 = var.ec2_endpoint

  source_ami    = data.amiwatermark.base.id
  instance_type = "t3.micro"
  communicator  = "none"
  ami_name      = "app-web-{{timestamp}}"
  ami_regions   = ["eu-west-1"]
  tags = {
    base_ami = data.amiwatermark.base.id
  }
}

build {
  sources = ["source.amazon-ebs.app"]

  post-processors {
    post-processor "amiwatermark" {
      custom_endpoint_ec2 = var.ec2_endpoint
      watermarks          = ["app-web"]
    }
    post-processor "manifest" {
      output = "emulated-pipeline-manifest.json"
      custom_data = {
        base_id = data.amiwatermark.base.id
      }
    }
  }
}
