# Acceptance scenarios 2 and 3 (real AWS): the post-processor alone on given
# AMIs. Used for the 5-watermark limit (a build that must change nothing) and
# for invalid names (`packer validate`).

variable "endpoint" {
  type    = string
  default = ""
}

variable "region" {
  type = string
}

variable "image_ids" {
  type = map(string)
}

variable "watermarks" {
  type = list(string)
}

source "null" "x" {
  communicator = "none"
}

build {
  sources = ["source.null.x"]

  post-processor "amiwatermark" {
    region              = var.region
    custom_endpoint_ec2 = var.endpoint

    image_ids  = var.image_ids
    watermarks = var.watermarks
  }
}
