package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"reflect"
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

// FuzzRowBinary: a row read back from the spool file is the row written,
// and rows follow each other without a separator.
func FuzzRowBinary(f *testing.F) {
	f.Add("image", "ami-0123456789abcdef0", "", "blocked", "criterion 1: provider x not in ImageProviders", true, 2)
	f.Add("", "", "", "", "", false, 0)
	f.Add("instance", "ami-1", "i-2", "blocked", "\x00\xff é", true, 5)
	f.Fuzz(func(t *testing.T, kind, id, inst, status, reason string, blocked bool, n int) {
		var wms []string
		for i := 0; i < n%6; i++ {
			wms = append(wms, reason+id)
		}
		rows := []scopeRow{
			{Kind: kind, ImageID: id, InstanceID: inst, OwnerID: id, OwnerAlias: inst, Name: reason, Status: status, Blocked: blocked, Reason: reason, Watermarks: wms},
			{Kind: "image", ImageID: id, Status: status},
		}
		var b []byte
		for i := range rows {
			b = rows[i].appendBinary(b)
		}
		br := bufio.NewReader(bytes.NewReader(b))
		for i, want := range rows {
			var got scopeRow
			if err := got.readBinary(br); err != nil {
				t.Fatalf("row %d: %v", i, err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("row %d: read %+v, wrote %+v", i, got, want)
			}
		}
		var end scopeRow
		if err := end.readBinary(br); err != io.EOF {
			t.Fatalf("after the last row: %v, want io.EOF", err)
		}
		// A file cut short is an error, never a row.
		if len(b) > 1 {
			var cut scopeRow
			if err := cut.readBinary(bufio.NewReader(bytes.NewReader(b[:len(b)/2]))); err == nil && len(rows[0].appendBinary(nil)) > len(b)/2 {
				t.Fatalf("a cut record was read as a row: %+v", cut)
			}
		}
	})
}
