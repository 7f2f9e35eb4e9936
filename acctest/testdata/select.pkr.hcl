# Acceptance scenarios 4 and 6 (real AWS): the data source alone; the build
# records what it selected in manifest.json.

variable "endpoint" {
  type    = string
  default = ""
}

variable "region" {
  type = string
}

variable "keys" {
  type = list(string)
}

variable "owners" {
  type    = list(string)
  default = ["self"]
}

variable "lineage" {
  type    = string
  default = "attached"
}

variable "name_filter" {
  type = string
}

data "amiwatermark" "image" {
  region              = var.region
  custom_endpoint_ec2 = var.endpoint

  watermark_keys = var.keys
  owners         = var.owners
  lineage        = var.lineage
  filters        = { name = var.name_filter }
}

source "null" "x" {
  communicator = "none"
}

build {
  sources = ["source.null.x"]

  post-processor "manifest" {
    output = "manifest.json"
    custom_data = {
      id          = data.amiwatermark.image.id
      matched_key = data.amiwatermark.image.matched_watermark.key
    }
  }
}
