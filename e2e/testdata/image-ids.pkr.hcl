# The post-processor alone on given AMIs (image_ids) after a null build, with
# every option the e2e tests depend on as a variable (null: the plugin's
# default). Scenario 2: one AMI already carries 4 watermarks (inherited ones
# count) and two more names are requested; the whole run must be refused
# before the first attach, in every region (acctest/ also uses it for the
# limit and for invalid names). Issue 12: the promises of the docs (dry run,
# require_allowed, not-found grace, request timeout; `endpoint` may point at
# an endpoint that never answers).

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
  description = "Region => AMI: in scenario 2 a us-east-1 AMI with 4 watermarks and a eu-west-1 AMI with room."
}

variable "watermarks" {
  type    = list(string)
  default = ["golden"]
}

variable "dry_run" {
  type    = bool
  default = null
}

variable "require_allowed" {
  type    = bool
  default = null
}

variable "not_found_grace" {
  type    = string
  default = null
}

variable "wait_timeout" {
  type    = string
  default = null
}

variable "request_timeout" {
  type    = string
  default = null
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
    request_timeout     = var.request_timeout

    image_ids       = var.image_ids
    watermarks      = var.watermarks
    dry_run         = var.dry_run
    require_allowed = var.require_allowed
    not_found_grace = var.not_found_grace
    wait_timeout    = var.wait_timeout
  }
}
