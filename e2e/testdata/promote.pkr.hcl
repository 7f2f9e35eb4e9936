# Scenario 6: promotion. The newest `candidate` image in each of two regions
# is selected with the data source; the post-processor detaches `candidate`
# and attaches `approved` to both. (Packer evaluates data sources before
# locals, so the credentials are written out in each block.)

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

data "amiwatermark" "candidate_use1" {
  region              = "us-east-1"
  access_key          = "AKIDTEST111122223333"
  secret_key          = "e2e-not-a-secret"
  custom_endpoint_ec2 = var.endpoint

  watermark_keys = ["111122223333:candidate"]
  owners         = ["self"]
}

data "amiwatermark" "candidate_euw1" {
  region              = "eu-west-1"
  access_key          = "AKIDTEST111122223333"
  secret_key          = "e2e-not-a-secret"
  custom_endpoint_ec2 = var.endpoint

  watermark_keys = ["111122223333:candidate"]
  owners         = ["self"]
}

source "null" "promote" {
  communicator = "none"
}

build {
  sources = ["source.null.promote"]

  post-processor "amiwatermark" {
    access_key          = "AKIDTEST111122223333"
    secret_key          = "e2e-not-a-secret"
    custom_endpoint_ec2 = var.endpoint

    image_ids = {
      "us-east-1" = data.amiwatermark.candidate_use1.id
      "eu-west-1" = data.amiwatermark.candidate_euw1.id
    }
    detach     = ["candidate"]
    watermarks = ["approved"]
  }
}
