# The data source refuses a base whose Amazon Inspector scan results fail
# the template's conditions (an unpatched critical finding), and a null
# build records the base it chose.

packer {
  required_plugins {
    amiwatermark = {
      source  = "github.com/amiwatermark/amiwatermark"
      version = ">= 0.1.0"
    }
  }
}

variable "endpoint" {
  type = string
}

variable "max_severity" {
  type    = string
  default = null
}

variable "fix_days" {
  type    = map(number)
  default = null
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

  watermark_keys               = ["111122223333:scanned-base"]
  owners                       = ["self"]
  max_severity                 = var.max_severity
  max_days_since_fix_available = var.fix_days
}

source "null" "x" {
  communicator = "none"
}

build {
  sources = ["source.null.x"]

  post-processor "manifest" {
    output = var.manifest
    custom_data = {
      id = data.amiwatermark.base.id
    }
  }
}
