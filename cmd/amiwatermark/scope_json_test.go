package main

import (
	"encoding/json"
	"testing"
)

// FuzzRowJSON: a row's hand-written JSON is byte for byte json.Marshal's.
func FuzzRowJSON(f *testing.F) {
	for _, s := range []string{"", "ami-0123456789abcdef0", `quo"te\ <b>&amp;</b>`, "tab\tnl\ncr\rbs\bff\f\x00\x1f\x7f",
		"\u2028\u2029 é 😀", "bad \xff\xfe utf8", "golden 'x' (1) [2] ./-@_"} {
		f.Add(s, s+"x", true, 1)
	}
	f.Fuzz(func(t *testing.T, a, b string, blocked bool, n int) {
		rows := []scopeRow{
			{Kind: "image", ImageID: a, Status: "blocked", Blocked: blocked},
			{Kind: a, ImageID: b, InstanceID: a, OwnerID: b, OwnerAlias: a, Name: b, Status: a, Blocked: blocked, Reason: b,
				Watermarks: []string{a, b}[:max(0, min(2, n))]},
		}
		for _, r := range rows {
			want, err := json.Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			if got := r.appendJSON(nil); string(got) != string(want) {
				t.Fatalf("row %+v:\nappendJSON  %s\njson.Marshal %s", r, got, want)
			}
		}
	})
}
