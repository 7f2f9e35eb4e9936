package awsconfig_test

import (
	"reflect"
	"testing"
	"time"

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

// sameCreationDate fails unless ParseEC2Time's fast form gives exactly
// what its layouts give (time.Parse), or leaves the string to them.
func sameCreationDate(t *testing.T, v string) {
	t.Helper()
	got, ok := awsconfig.ParseCreationDate(v)
	want, err := time.Parse(time.RFC3339Nano, v)
	if !ok {
		if err == nil && len(v) == len("2006-01-02T15:04:05.000Z") && v[len(v)-1] == 'Z' && v[19] == '.' && v[10] == 'T' {
			t.Fatalf("%q: time.Parse reads it, the fast form does not", v)
		}
		return
	}
	if err != nil {
		t.Fatalf("%q: the fast form reads %v, time.Parse refuses it: %v", v, got, err)
	}
	if want = want.UTC(); !reflect.DeepEqual(got, want) {
		t.Fatalf("%q: %#v, time.Parse %#v", v, got, want)
	}
	if full := awsconfig.ParseEC2Time(v); !reflect.DeepEqual(full, want) {
		t.Fatalf("%q: ParseEC2Time %v, want %v", v, full, want)
	}
}

var creationDateSamples = []string{
	"2026-06-24T03:15:42.000Z", "2026-06-24T03:15:42.123Z", "2024-02-29T23:59:59.999Z", "2023-02-29T00:00:00.000Z",
	"2026-04-31T00:00:00.000Z", "2026-12-31T00:00:00.000Z", "2026-13-01T00:00:00.000Z", "2026-00-01T00:00:00.000Z",
	"2026-01-00T00:00:00.000Z", "2026-01-01T24:00:00.000Z", "2026-01-01T00:60:00.000Z", "2026-01-01T00:00:60.000Z",
	"0000-01-01T00:00:00.000Z", "9999-12-31T23:59:59.999Z", "2026-06-24T03:15:42.000z", "2026-06-24 03:15:42.000Z",
	"2026-06-24T03:15:42,000Z", "2026-6-24T03:15:42.0000Z", "+026-06-24T03:15:42.000Z", "2026-06-24T03:15:42.00aZ",
	"1970-01-01T00:00:00.000Z", "1969-12-31T23:59:59.999Z", "2000-02-29T12:00:00.000Z", "2100-02-29T00:00:00.000Z",
	"2100-03-01T00:00:00.000Z", "1900-02-28T00:00:00.000Z", "0400-02-29T00:00:00.000Z", "0001-03-01T00:00:00.000Z",
}

func TestParseCreationDateIsTimeParse(t *testing.T) {
	for _, v := range creationDateSamples {
		sameCreationDate(t, v)
	}
	if _, ok := awsconfig.ParseCreationDate("2026-06-24T03:15:42.000Z"); !ok {
		t.Error("EC2's own form is not read by the fast form")
	}
}

func FuzzParseCreationDate(f *testing.F) {
	for _, v := range creationDateSamples {
		f.Add(v)
	}
	f.Fuzz(sameCreationDate)
}
