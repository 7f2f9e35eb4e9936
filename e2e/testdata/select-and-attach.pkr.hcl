# Scenarios 1 and 5: the data source selects the newest golden base by its
# watermark, a null build hands its id to the post-processor through
# image_ids (plus the AMIs of extra_image_ids, other regions), and the
# post-processor attaches two names (and detaches the names of detach, for a
# promotion). Run twice, the second run attaches nothing. The variables'
# defaults are the e2e scenario; acctest/ runs the same template against AWS.

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
  description = "URL of the EC2 emulator (set by the e2e harness); \"\" for AWS."
}

variable "region" {
  type    = string
  default = "us-east-1"
}

# Credentials: the emulator's test account by default; the acceptance tests
# (acctest/) pass "" to use the SDK's default chain against AWS.
variable "access_key" {
  type    = string
  default = "AKIDTEST111122223333"
}

variable "secret_key" {
  type    = string
  default = "e2e-not-a-secret"
}

variable "max_retries" {
  type    = number
  default = 2
}

variable "key" {
  type        = string
  default     = "111122223333:golden-base"
  description = "ACCOUNT:NAME of the base's watermark."
}

variable "filters" {
  type    = map(string)
  default = {}
}

variable "extra_image_ids" {
  type    = map(string)
  default = {}
}

variable "watermarks" {
  type    = list(string)
  default = ["candidate", "ci-passed"]
}

variable "detach" {
  type    = list(string)
  default = []
}

variable "manifest" {
  type    = string
  default = "manifest.json"
}

data "amiwatermark" "base" {
  region              = var.region
  access_key          = var.access_key
  secret_key          = var.secret_key
  custom_endpoint_ec2 = var.endpoint
  max_retries         = var.max_retries

  watermark_keys = [var.key]
  owners         = ["self"]
  filters        = var.filters
}

source "null" "x" {
  communicator = "none"
}

build {
  sources = ["source.null.x"]

  post-processor "amiwatermark" {
    region              = var.region
    access_key          = var.access_key
    secret_key          = var.secret_key
    custom_endpoint_ec2 = var.endpoint
    max_retries         = var.max_retries

    image_ids  = merge(var.extra_image_ids, { (var.region) = data.amiwatermark.base.id })
    watermarks = var.watermarks
    detach     = var.detach
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
