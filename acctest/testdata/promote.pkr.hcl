# Acceptance scenario 6 (real AWS): promotion. The newest `candidate` test
# image is selected with the data source; the post-processor detaches this
# account's candidate key and attaches `approved`.

variable "endpoint" {
  type    = string
  default = ""
}

variable "region" {
  type = string
}

variable "candidate_key" {
  type = string
}

variable "candidate" {
  type = string
}

variable "approved" {
  type = string
}

variable "name_filter" {
  type = string
}

data "amiwatermark" "candidate" {
  region              = var.region
  custom_endpoint_ec2 = var.endpoint

  watermark_keys = [var.candidate_key]
  owners         = ["self"]
  filters        = { name = var.name_filter }
}

source "null" "promote" {
  communicator = "none"
}

build {
  sources = ["source.null.promote"]

  post-processor "amiwatermark" {
    region              = var.region
    custom_endpoint_ec2 = var.endpoint

    image_ids  = { (var.region) = data.amiwatermark.candidate.id }
    detach     = [var.candidate] # a bare name: this account's key
    watermarks = [var.approved]
  }
}
