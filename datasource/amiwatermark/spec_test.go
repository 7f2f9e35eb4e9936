package amiwatermark

import (
	"testing"

	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/hashicorp/packer-plugin-sdk/hcl2helper"
	"github.com/zclconf/go-cty/cty"
)

func (d *Datasource) outputType() cty.Type { return hcldec.ImpliedType(d.OutputSpec()) }

func hcl2ValueFromOutput(t *testing.T, d *Datasource, out DatasourceOutput) (v cty.Value) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("HCL2ValueFromConfig panicked on %+v: %v", out, r)
		}
	}()
	return hcl2helper.HCL2ValueFromConfig(out, d.OutputSpec())
}
