# Scenario 2: one AMI already carries 4 watermarks (inherited ones count) and
# two more names are requested. The whole run must be refused before the first
# attach, in every region. The post-processor alone on given AMIs (image_ids);
# acctest/ also uses it for the limit and for invalid names (validate).

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

variable "image_ids" {
  type        = map(string)
  description = "Region => AMI: in the e2e scenario a us-east-1 AMI with 4 watermarks and a eu-west-1 AMI with room."
}

variable "watermarks" {
  type    = list(string)
  default = ["candidate", "ci-passed"]
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

    image_ids  = var.image_ids
    watermarks = var.watermarks
  }
}
