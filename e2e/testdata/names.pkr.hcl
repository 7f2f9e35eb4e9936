# Scenario 3: watermark names are checked at `packer validate` time.

packer {
  required_plugins {
    amiwatermark = {
      source  = "github.com/amiwatermark/amiwatermark"
      version = ">= 0.1.0"
    }
  }
}

variable "endpoint" {
  type    = string
  default = "http://127.0.0.1:9"
}

variable "names" {
  type        = list(string)
  description = "The watermark names under test."
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

    image_ids  = { "us-east-1" = "ami-0123456789abcdef0" }
    watermarks = var.names
  }
}
