# Scenarios 1 and 5: the data source selects the newest golden base by its
# watermark, a null build hands its id to the post-processor through
# image_ids, and the post-processor attaches two names. Run twice, the second
# run attaches nothing.

packer {
  required_plugins {
    amiwatermark = {
      source  = "github.com/amiwatermark/amiwatermark"
      version = ">= 0.1.0"
    }
  }
}

variable "endpoint" {
  type        = string
  description = "URL of the EC2 emulator (set by the e2e harness)."
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

  watermark_keys = ["111122223333:golden-base"]
  owners         = ["self"]
}

source "null" "x" {
  communicator = "none"
}

build {
  sources = ["source.null.x"]

  post-processor "amiwatermark" {
    access_key          = "AKIDTEST111122223333"
    secret_key          = "e2e-not-a-secret"
    custom_endpoint_ec2 = var.endpoint
    max_retries         = 2

    image_ids  = { "us-east-1" = data.amiwatermark.base.id }
    watermarks = ["candidate", "ci-passed"]
  }

  # Records the data source's outputs so the test can check them.
  post-processor "manifest" {
    output = var.manifest
    custom_data = {
      id                    = data.amiwatermark.base.id
      name                  = data.amiwatermark.base.name
      region                = data.amiwatermark.base.region
      owner_id              = data.amiwatermark.base.owner_id
      matched_key           = data.amiwatermark.base.matched_watermark.key
      matched_account       = data.amiwatermark.base.matched_watermark.account
      matched_name          = data.amiwatermark.base.matched_watermark.name
      matched_source_image  = data.amiwatermark.base.matched_watermark.source_image_id
      matched_source_region = data.amiwatermark.base.matched_watermark.source_image_region
      watermark_count       = length(data.amiwatermark.base.watermarks)
    }
  }
}
