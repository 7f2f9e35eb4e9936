# Scenarios 4 and 6: a data source whose query comes from variables, and a
# null build that records what it selected in a manifest. acctest/ runs the
# same template against AWS. The e2e tests of issue 12 (request timeout) and
# of the scan conditions (Amazon Inspector) use it too.

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

variable "keys" {
  type = list(string)
}

variable "owners" {
  type    = list(string)
  default = ["self"]
}

variable "allow_any_account" {
  type    = bool
  default = false
}

variable "lineage" {
  type    = string
  default = "attached"
}

variable "filters" {
  type    = map(string)
  default = {}
}

variable "max_watermark_age_days" {
  type    = number
  default = null
}

# Amazon Inspector scan conditions: a base with an unpatched critical
# finding is refused.
variable "max_severity" {
  type    = string
  default = null
}

variable "fix_days" {
  type    = map(number)
  default = null
}

# null: the plugin's default. Issue 12 points `endpoint` at an endpoint that
# never answers.
variable "request_timeout" {
  type    = string
  default = null
}

variable "manifest" {
  type    = string
  default = "manifest.json"
}

data "amiwatermark" "image" {
  region              = var.region
  access_key          = var.access_key
  secret_key          = var.secret_key
  custom_endpoint_ec2 = var.endpoint
  max_retries         = var.max_retries
  request_timeout     = var.request_timeout

  watermark_keys         = var.keys
  owners                 = var.owners
  allow_any_account      = var.allow_any_account
  lineage                = var.lineage
  filters                = var.filters
  max_watermark_age_days = var.max_watermark_age_days

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
      id          = data.amiwatermark.image.id
      name        = data.amiwatermark.image.name
      owner_id    = data.amiwatermark.image.owner_id
      matched_key = data.amiwatermark.image.matched_watermark.key
    }
  }
}
