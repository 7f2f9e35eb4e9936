package amiref

import (
	"reflect"
	"strings"
	"testing"
)

func TestValidRegion(t *testing.T) {
	for r, want := range map[string]bool{
		"us-east-1": true, "us-gov-west-1": true, "eu-central-2": true, "ap-southeast-4": true,
		"": false, "useast1": false, "US-EAST-1": false, "us_east_1": false, "us-east-1 ": false, "a-": false,
	} {
		if got := ValidRegion(r); got != want {
			t.Errorf("ValidRegion(%q) = %v, want %v", r, got, want)
		}
	}
}

func TestIsAMIID(t *testing.T) {
	for s, want := range map[string]bool{
		"ami-0123abcd": true, "ami-0123456789abcdef0": true,
		"ami-0123ABCD": false, "ami-0123abc": false, "ami-0123456789abcdef": false, "i-0123abcd": false, "": false, "ami-0123abcg": false,
	} {
		if got := IsAMIID(s); got != want {
			t.Errorf("IsAMIID(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestParseListOptions(t *testing.T) {
	const a = "ami-0123abcd"
	lenient := Options{DefaultRegion: "us-east-1", SkipEmpty: true, DropRepeats: true}
	got, err := ParseList("us-east-1:"+a+",eu-west-1:"+a+", "+a+",", lenient)
	want := []Ref{{"us-east-1", a}, {"eu-west-1", a}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("lenient = %v, %v; want %v", got, err, want)
	}
	// Strict: the same AMI id twice is an error even in another region.
	_, err = ParseList("us-east-1:"+a+",eu-west-1:"+a, Options{})
	var e *Error
	if !asError(err, &e) || e.Problem != Repeated || e.Entry != 2 || e.First != 1 || e.Value != a {
		t.Fatalf("strict repeat: %#v", err)
	}
	for _, tc := range []struct {
		list    string
		o       Options
		problem Problem
		value   string
	}{
		{"", lenient, EmptyList, ""},
		{",", lenient, EmptyList, ""},
		{a + ",", Options{DefaultRegion: "us-east-1"}, EmptyEntry, ""},
		{a, Options{}, NoRegion, a},
		{":" + a, lenient, BadRegion, ""},
		{"US:" + a, lenient, BadRegion, "US"},
		{"us-east-1:ami-XYZ", lenient, BadAMIID, "ami-XYZ"},
		{"us-east-1:" + a + ":x", lenient, BadAMIID, a + ":x"},
	} {
		_, err := ParseList(tc.list, tc.o)
		if !asError(err, &e) || e.Problem != tc.problem || e.Value != tc.value {
			t.Errorf("ParseList(%q) = %#v, want problem %d value %q", tc.list, err, tc.problem, tc.value)
		}
	}
}

func asError(err error, e **Error) bool {
	x, ok := err.(*Error)
	*e = x
	return ok
}

// FuzzParseList: never panics; a success is a non-empty list of valid refs
// that parses again to the same list.
func FuzzParseList(f *testing.F) {
	f.Add("us-east-1:ami-0123abcd,eu-west-1:ami-0123456789abcdef0")
	f.Add(" us-east-1 : ami-0123abcd ,")
	f.Fuzz(func(t *testing.T, list string) {
		for _, o := range []Options{{}, {DefaultRegion: "us-east-1", SkipEmpty: true, DropRepeats: true}} {
			refs, err := ParseList(list, o)
			if err != nil {
				if err.Error() == "" {
					t.Fatal("empty error text")
				}
				continue
			}
			parts := make([]string, len(refs))
			for i, r := range refs {
				if !ValidRegion(r.Region) || !IsAMIID(r.ImageID) {
					t.Fatalf("invalid ref %v from %q", r, list)
				}
				parts[i] = r.String()
			}
			again, err := ParseList(strings.Join(parts, ","), o)
			if err != nil || !reflect.DeepEqual(again, refs) {
				t.Fatalf("round trip of %q: %v, %v", list, again, err)
			}
		}
	})
}
