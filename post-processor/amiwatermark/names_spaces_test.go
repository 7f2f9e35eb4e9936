package amiwatermark

import (
	"context"
	"reflect"
	"testing"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/ec2emu"
)

// TestPostProcessorNameKeepsSpaces: the post-processor keeps the spaces
// around a name, as AWS and the CLI's --name do (one rule).
func TestPostProcessorNameKeepsSpaces(t *testing.T) {
	e := newEmu(t)
	id := e.SeedImages(t, ec2emu.SeedImage{Region: "us-east-1", Account: testAccount, Name: "app"})[0]
	_, ui, err := runPP(t, context.Background(), e.pp(t, map[string]interface{}{"watermarks": []string{"  spaced "}}), amiArtifact("us-east-1:"+id))
	if err != nil {
		t.Fatalf("%v\n%s", err, ui)
	}
	if got, want := e.keys(t, "us-east-1", id), []string{testAccount + ":  spaced "}; !reflect.DeepEqual(got, want) {
		t.Fatalf("keys = %q, want %q", got, want)
	}
}
