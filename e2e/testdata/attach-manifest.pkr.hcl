# Issue 16: a Packer build that does not watermark. The amazon-ebs builder
# images the golden base into two regions and the manifest post-processor
# records the AMIs; a later job approves them with
# `amiwatermark attach --packer-manifest packer-manifest.json --last`.

packer {
  required_plugins {
    amazon = {
      source  = "github.com/hashicorp/amazon"
      version = "~> 1"
    }
  }
}

variable "endpoint" {
  type        = string
  description = "URL of the EC2 emulator (set by the e2e harness)."
}

variable "base_ami" {
  type        = string
  description = "The golden base the build starts from."
}

source "amazon-ebs" "app" {
  region              = "us-east-1"
  access_key          = "AKIDTEST111122223333"
  secret_key          = "e2e-not-a-secret"
  custom_endpoint_ec2 = var.endpoint

  source_ami    = var.base_ami
  instance_type = "t3.micro"
  communicator  = "none"

  ami_name    = "attach-app-{{timestamp}}"
  ami_regions = ["eu-west-1"]
}

build {
  sources = ["source.amazon-ebs.app"]

  post-processor "manifest" {
    output = "packer-manifest.json"
  }
}
