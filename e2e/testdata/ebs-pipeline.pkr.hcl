# Issue 8, scenarios 1 and 2, and issue 12, items 1 and 2: the whole
# pipeline in one real `packer build`.
# The data source picks the golden base by its watermark; the amazon plugin's
# amazon-ebs builder launches an instance from it (against the emulator: the
# instance is a record), images it with CreateImage and copies the AMI to a
# second region; both AMIs inherit the base's watermarks. The post-processor
# then attaches the pipeline's own names to every AMI of the artifact, and the
# manifest post-processor records the artifact for the test.
#
# The amazon-ebs builder comes from the amazon plugin (required_plugins,
# v1.8.2 in the tests); the harness sets AWS_ENDPOINT_URL_STS,
# AWS_ENDPOINT_URL_EC2 and AWS_POLL_DELAY_SECONDS for it (docs/emulator.md).

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
  type        = bool
  default     = true
  description = "The post-processor's reattach_inherited (issue 12, item 2)."
}

variable "keep_artifact" {
  type        = bool
  default     = false
  description = "Adds a second post-processor sequence that keeps the builder's artifact (issue 12, item 1)."
}

variable "kept_manifest" {
  type    = string
  default = "kept-manifest.json"
}

variable "ami_name" {
  type    = string
  default = "app"
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

  # A second post-processor sequence, which keeps the artifact, present only
  # with keep_artifact = true (Packer drops a sequence whose post-processors
  # are all skipped by except): Packer core keeps the builder's AMIs when
  # any sequence keeps them, also when the amiwatermark sequence above
  # fails, the documented way to keep them with fail_on_error = true.
  post-processor "manifest" {
    except = var.keep_artifact ? [] : ["amazon-ebs.app"]
    output = var.kept_manifest
  }
}
