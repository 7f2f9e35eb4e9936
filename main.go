// Command packer-plugin-amiwatermark is a Packer plugin for Amazon EC2 AMI watermarks.
package main

import (
	"fmt"
	"os"

	"github.com/hashicorp/packer-plugin-sdk/plugin"

	dsamiwatermark "github.com/amiwatermark/packer-plugin-amiwatermark/datasource/amiwatermark"
	ppamiwatermark "github.com/amiwatermark/packer-plugin-amiwatermark/post-processor/amiwatermark"
	"github.com/amiwatermark/packer-plugin-amiwatermark/version"
)

func main() {
	pps := plugin.NewSet()
	pps.RegisterPostProcessor(plugin.DEFAULT_NAME, new(ppamiwatermark.PostProcessor))
	pps.RegisterDatasource(plugin.DEFAULT_NAME, new(dsamiwatermark.Datasource))
	pps.SetVersion(version.PluginVersion)
	if err := pps.Run(); err != nil {
		fmt.Fprintln(os.Stderr, err.Error())
		os.Exit(1)
	}
}
