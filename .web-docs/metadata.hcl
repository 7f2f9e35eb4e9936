# Metadata of the plugin for the Packer integrations registry. The registry
# reads this file and the pages next to it (README.md and components/, written
# by `make generate`; do not edit those by hand).
integration {
  name        = "AMI Watermark"
  description = "Attach EC2 AMI watermarks after a build, and select source AMIs by the watermarks they carry."
  identifier  = "packer/amiwatermark/amiwatermark"
  flags       = []
  docs {
    process_docs    = true
    readme_location = "./README.md"
    external_url    = "https://github.com/amiwatermark/packer-plugin-amiwatermark"
  }
  component {
    type = "post-processor"
    name = "AMI Watermark"
    slug = "amiwatermark"
  }
  component {
    type = "data-source"
    name = "AMI Watermark"
    slug = "amiwatermark"
  }
}
