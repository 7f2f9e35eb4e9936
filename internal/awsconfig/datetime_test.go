package awsconfig_test

import (
	"reflect"
	"testing"

	smithytime "github.com/aws/smithy-go/time"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/awsconfig"
)

// sameDateTime fails unless the scanner's parsing of v is exactly smithy's:
// the same time value (location included) or both an error.
func sameDateTime(t *testing.T, v string) {
	t.Helper()
	got, gotErr := awsconfig.ParseDateTime(v)
	want, wantErr := smithytime.ParseDateTime(v)
	if (gotErr != nil) != (wantErr != nil) {
		t.Fatalf("%q: error %v, smithy's %v", v, gotErr, wantErr)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%q: %v (%#v), smithy's %v (%#v)", v, got, got, want, want)
	}
}

var dateTimeSamples = []string{
	"2026-06-24T03:15:42.123456+00:00", // EC2's watermark times: the fast way
	"2026-06-24T03:15:42.123456-07:00",
	"2026-06-24T03:15:42+02:00",
	"2026-06-24T03:15:42.1+00:00",
	"2026-06-24T03:15:42.000Z", // the rest is smithy's own way
	"2026-06-24T03:15:42Z",
	"2026-06-24T03:15:42",
	"2026-06-24T03:15:42,5+00:00",
	"2026-06-24T03:15:42.+00:00",
	"2026-02-30T03:15:42.000000+00:00",
	"2026-06-24T24:15:42.000000+00:00",
	"2026-06-24T03:15:42.000000+24:00",
	"2026-06-24T03:15:42.000000+00:60",
	"2026-06-24t03:15:42.000000+00:00",
	"2026-06-24T03:15:42.000000+0000",
	"2026-06-24T03:15:42.000000+00:00 ",
	"02026-06-24T03:15:42.000000+00:00",
	"2026-06-24T03:15:42.0000000000+00:00",
	"-026-06-24T03:15:42.000000+00:00",
	"", "+", "2026-06-24T03:15:4-+00:00",
}

func TestParseDateTimeIsSmithys(t *testing.T) {
	for _, v := range dateTimeSamples {
		sameDateTime(t, v)
	}
}

func FuzzParseDateTime(f *testing.F) {
	for _, v := range dateTimeSamples {
		f.Add(v)
	}
	f.Fuzz(sameDateTime)
}
