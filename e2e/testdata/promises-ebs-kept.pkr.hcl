# Issue 12, item 1: promises-ebs.pkr.hcl plus a second post-processor
# sequence (a top-level manifest) that keeps the builder's artifact, the
# documented way to keep the AMIs when watermarking fails with
# fail_on_error = true.

variable "endpoint" {
  type        = string
  description = "URL of the EC2 emulator (set by the e2e harness)."
}

variable "base_key" {
  type        = string
  default     = "111122223333:golden-base"
  description = "Watermark key of the golden base the build starts from."
}

variable "watermarks" {
  type    = list(string)
  default = ["app-release"]
}

variable "fail_on_error" {
  type    = bool
  default = true
}

variable "reattach_inherited" {
  type    = bool
  default = true
}

variable "ami_name" {
  type    = string
  default = "app"
}

variable "kept_manifest" {
  type    = string
  default = "kept-manifest.json"
}

variable "manifest" {
  type    = string
  default = "manifest.json"
}

data "amiwatermark" "base" {
  region              = "us-east-1"
  access_key          = "AKIDTEST111122223333"
  secret_key          = "e2e-not-a-secret"
  custom_endpoint_ec2 = var.endpoint
  max_retries         = 2

  watermark_keys = [var.base_key]
  owners         = ["self"]
  lineage        = "attached"
}

source "amazon-ebs" "app" {
  region              = "us-east-1"
  access_key          = "AKIDTEST111122223333"
  secret_key          = "e2e-not-a-secret"
  custom_endpoint_ec2 = var.endpoint

  source_ami    = data.amiwatermark.base.id
  instance_type = "t3.micro"
  communicator  = "none"

  ami_name    = "${var.ami_name}-{{timestamp}}"
  ami_regions = ["eu-west-1"]
  tags = {
    Name    = var.ami_name
    BaseAMI = "{{ .SourceAMI }}"
  }
  snapshot_tags = {
    Name = var.ami_name
  }
  run_tags = {
    Purpose = "packer-e2e"
  }
}

build {
  sources = ["source.amazon-ebs.app"]

  post-processors {
    post-processor "amiwatermark" {
      access_key          = "AKIDTEST111122223333"
      secret_key          = "e2e-not-a-secret"
      custom_endpoint_ec2 = var.endpoint
      max_retries         = 2

      watermarks         = var.watermarks
      fail_on_error      = var.fail_on_error
      reattach_inherited = var.reattach_inherited
    }

    # Runs only when the post-processor above succeeded (or only warned).
    post-processor "manifest" {
      output = var.manifest
      custom_data = {
        base_id = data.amiwatermark.base.id
      }
    }
  }

  # A second post-processor sequence, which keeps the artifact: Packer core
  # keeps the builder's AMIs when any sequence keeps them, also when the
  # amiwatermark sequence above fails.
  post-processor "manifest" {
    output = var.kept_manifest
  }
}
