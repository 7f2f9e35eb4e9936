package amiwatermark

import (
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// TestParseFilters: the table of filters maps (the same texts Configure
// reports, see TestDatasourceConfigureErrors).
func TestParseFilters(t *testing.T) {
	cases := []struct {
		name string
		in   map[string]string
		want map[string][]string
		errs []string
	}{
		{name: "nil", in: nil},
		{name: "one", in: map[string]string{"name": "app-*"}, want: map[string][]string{"name": {"app-*"}}},
		{name: "trimmed, ORed values, order kept", in: map[string]string{"tag:team": " web , db", "architecture": "x86_64"},
			want: map[string][]string{"architecture": {"x86_64"}, "tag:team": {"web", "db"}}},
		{name: "wildcards and escapes pass through", in: map[string]string{"description": `\*literal\?,a b`},
			want: map[string][]string{"description": {`\*literal\?`, "a b"}}},
		{name: "empty value", in: map[string]string{"name": "a,,b", "architecture": "arm64"}, want: map[string][]string{"architecture": {"arm64"}},
			errs: []string{`filters["name"] = "a,,b" has an empty value: separate values with single commas, for example "a,b"`}},
		{name: "trailing comma", in: map[string]string{"name": "a,"},
			errs: []string{`filters["name"] = "a," has an empty value: separate values with single commas, for example "a,b"`}},
		{name: "only spaces", in: map[string]string{"name": "  "},
			errs: []string{`filters["name"] = "  " has an empty value: separate values with single commas, for example "a,b"`}},
		{name: "empty name", in: map[string]string{" ": "x"},
			errs: []string{"filters has an empty filter name: use DescribeImages filter names such as name, tag:team or architecture"}},
	}
	for _, c := range cases {
		got, errs := parseFilters(c.in)
		gotMap := map[string][]string{}
		for _, f := range got {
			gotMap[aws.ToString(f.Name)] = f.Values
		}
		if len(c.want) == 0 && len(gotMap) == 0 {
			gotMap = nil
		}
		want := c.want
		if len(want) == 0 {
			want = nil
		}
		if !reflect.DeepEqual(gotMap, want) {
			t.Errorf("%s: filters %v, want %v", c.name, gotMap, want)
		}
		var msgs []string
		for _, e := range errs {
			msgs = append(msgs, e.Error())
		}
		if !reflect.DeepEqual(msgs, c.errs) {
			t.Errorf("%s: errors %q, want %q", c.name, msgs, c.errs)
		}
	}
}

// FuzzParseFilters: never panics; every entry becomes either one filter or
// one error; filters come sorted by name, each with the trimmed non-empty
// values of its comma-separated list in order, none containing a comma;
// joining a filter's values and parsing again gives the same filter; an
// error names its filter.
func FuzzParseFilters(f *testing.F) {
	f.Add("name", "app-*", "tag:team", "web, db")
	f.Add("", "x", "architecture", "x86_64")
	f.Add("name", "a,,b", "name2", ",")
	f.Add(" ", " ", "tag:a,b", `\*,\?`)
	f.Add("image-watermark.watermark-key", "111122223333:golden-*", "is-public", "false")
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2 string) {
		in := map[string]string{k1: v1, k2: v2}
		got, errs := parseFilters(in)
		if len(got)+len(errs) != len(in) {
			t.Fatalf("%q: %d filters and %d errors for %d entries", in, len(got), len(errs), len(in))
		}
		names := make([]string, 0, len(got))
		for _, fl := range got {
			name := aws.ToString(fl.Name)
			names = append(names, name)
			raw, ok := in[name]
			if !ok || strings.TrimSpace(name) == "" {
				t.Fatalf("%q: filter name %q is not an entry with a name", in, name)
			}
			var want []string
			for _, v := range strings.Split(raw, ",") {
				want = append(want, strings.TrimSpace(v))
			}
			if !reflect.DeepEqual(fl.Values, want) {
				t.Fatalf("%q: %s values %q, want %q", in, name, fl.Values, want)
			}
			for _, v := range fl.Values {
				if v == "" || strings.Contains(v, ",") || v != strings.TrimSpace(v) {
					t.Fatalf("%q: %s has value %q", in, name, v)
				}
			}
			again, errs2 := parseFilters(map[string]string{name: strings.Join(fl.Values, ",")})
			if len(errs2) != 0 || len(again) != 1 || !reflect.DeepEqual(again[0].Values, fl.Values) {
				t.Fatalf("%q: re-parsing %s gives %v %v", in, name, again, errs2)
			}
		}
		if !sort.StringsAreSorted(names) {
			t.Fatalf("%q: filters not sorted: %q", in, names)
		}
		for _, e := range errs {
			msg := e.Error()
			if !strings.HasPrefix(msg, "filters has an empty filter name") && !strings.HasPrefix(msg, "filters[") {
				t.Fatalf("%q: error %q does not name the filter", in, msg)
			}
		}
	})
}
