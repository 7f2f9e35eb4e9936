# Acceptance scenarios 1 and 5 (real AWS): the data source selects the newest
# test base by its watermark, a null build hands the id to the post-processor
# through image_ids (plus the AMIs of extra_image_ids, other regions), and the
# post-processor attaches the names. Credentials: the SDK's default chain.

variable "endpoint" {
  type    = string
  default = ""
}

variable "region" {
  type = string
}

variable "key" {
  type        = string
  description = "ACCOUNT:NAME of the test base's watermark."
}

variable "name_filter" {
  type        = string
  description = "Restricts the search to this run's AMIs."
}

variable "extra_image_ids" {
  type    = map(string)
  default = {}
}

variable "watermarks" {
  type = list(string)
}

data "amiwatermark" "base" {
  region              = var.region
  custom_endpoint_ec2 = var.endpoint

  watermark_keys = [var.key]
  owners         = ["self"]
  filters        = { name = var.name_filter }
}

source "null" "x" {
  communicator = "none"
}

build {
  sources = ["source.null.x"]

  post-processor "amiwatermark" {
    region              = var.region
    custom_endpoint_ec2 = var.endpoint

    image_ids  = merge(var.extra_image_ids, { (var.region) = data.amiwatermark.base.id })
    watermarks = var.watermarks
  }

  post-processor "manifest" {
    output = "manifest.json"
    custom_data = {
      id          = data.amiwatermark.base.id
      matched_key = data.amiwatermark.base.matched_watermark.key
    }
  }
}
