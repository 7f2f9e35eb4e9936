package watermark

import (
	"strings"
	"testing"
)

func TestValidateName(t *testing.T) {
	cases := []struct {
		name string
		err  string // exact text; "" = valid
	}{
		{"golden", ""},
		{"abc", ""},
		{"Approved AMI (v1.2) [prod]/x-y'z@w_", ""},
		{strings.Repeat("a", 128), ""},
		{"ab", `watermark name "ab" is 2 characters long: a name must be 3-128 characters`},
		{"", `watermark name "" is 0 characters long: a name must be 3-128 characters`},
		{strings.Repeat("a", 129), `watermark name "` + strings.Repeat("a", 129) + `" is 129 characters long: a name must be 3-128 characters`},
		{"gold*en", `watermark name "gold*en" has the character '*' at position 5: a name may contain only letters (A-Z, a-z), digits (0-9), spaces and ( ) [ ] . / - ' @ _`},
		{"café", `watermark name "café" has the character 'é' at position 4: a name may contain only letters (A-Z, a-z), digits (0-9), spaces and ( ) [ ] . / - ' @ _`},
		{"tab\there", `watermark name "tab\there" has the character '\t' at position 4: a name may contain only letters (A-Z, a-z), digits (0-9), spaces and ( ) [ ] . / - ' @ _`},
		{"111122223333:golden", `watermark name "111122223333:golden" contains ':': give the name only (for example "golden"); AWS adds the account id itself and the key becomes ACCOUNT:NAME`},
		{"a:b:golden", `watermark name "a:b:golden" contains ':': give the name only (for example "golden"); AWS adds the account id itself and the key becomes ACCOUNT:NAME`},
	}
	for _, tc := range cases {
		err := ValidateName(tc.name)
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("ValidateName(%q) = %v, want nil", tc.name, err)
		case tc.err != "" && (err == nil || err.Error() != tc.err):
			t.Errorf("ValidateName(%q) = %v,\n want %s", tc.name, err, tc.err)
		}
	}
}

func TestParseKey(t *testing.T) {
	cases := []struct {
		key  string
		want Key
		err  string
	}{
		{key: "111122223333:golden", want: Key{"111122223333", "golden"}},
		{key: "111122223333:a:b", err: `watermark key "111122223333:a:b": watermark name "a:b" contains ':': give the name only (for example "b"); AWS adds the account id itself and the key becomes ACCOUNT:NAME`},
		{key: "golden", err: `watermark key "golden" has no ':': a key is ACCOUNT:NAME, for example 123456789012:golden`},
		{key: "11112222333:golden", err: `watermark key "11112222333:golden": the account part "11112222333" is not a 12-digit account id`},
		{key: "*:golden", err: `watermark key "*:golden": the account part "*" is not a 12-digit account id`},
		{key: "111122223333:go", err: `watermark key "111122223333:go": watermark name "go" is 2 characters long: a name must be 3-128 characters`},
	}
	for _, tc := range cases {
		got, err := ParseKey(tc.key)
		if tc.err != "" {
			if err == nil || err.Error() != tc.err {
				t.Errorf("ParseKey(%q) error = %v,\n want %s", tc.key, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseKey(%q) = %+v, %v; want %+v", tc.key, got, err, tc.want)
		}
		if got.String() != tc.key {
			t.Errorf("Key.String() = %q, want %q", got.String(), tc.key)
		}
	}
}

func TestSplitFormatKey(t *testing.T) {
	cases := []struct{ key, acct, name string }{
		{"111122223333:golden", "111122223333", "golden"},
		{"golden", "", "golden"},
		{":x", "", "x"},
		{"a:b:c", "a", "b:c"},
	}
	for _, tc := range cases {
		a, n := SplitKey(tc.key)
		if a != tc.acct || n != tc.name {
			t.Errorf("SplitKey(%q) = %q, %q; want %q, %q", tc.key, a, n, tc.acct, tc.name)
		}
	}
	if got := FormatKey("111122223333", "golden"); got != "111122223333:golden" {
		t.Errorf("FormatKey = %q", got)
	}
	w := Watermark{Key: "111122223333:golden"}
	if w.Account() != "111122223333" || w.Name() != "golden" {
		t.Errorf("Watermark.Account/Name = %q/%q", w.Account(), w.Name())
	}
}

func TestIsAccountID(t *testing.T) {
	cases := map[string]bool{
		"111122223333":  true,
		"000000000000":  true,
		"11112222333":   false,
		"1111222233334": false,
		"11112222333a":  false,
		"":              false,
		"*":             false,
		"１11122223333":  false, // full-width digit
	}
	for s, want := range cases {
		if got := IsAccountID(s); got != want {
			t.Errorf("IsAccountID(%q) = %v, want %v", s, got, want)
		}
	}
}

// FuzzValidateName: ValidateName never panics, accepts exactly the AWS rule,
// and a key built from an accepted name parses back to it.
func FuzzValidateName(f *testing.F) {
	for _, s := range []string{"golden", "ab", "", "a:b", "café", strings.Repeat("x", 129), "(v1) [x]/y-z'@_ .", "\xff\xfe\xfd"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := ValidateName(s)
		ok := len(s) >= MinNameLen && len(s) <= MaxNameLen
		for _, r := range s {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune(" ()[]./-'@_", r)) {
				ok = false
			}
		}
		if ok != (err == nil) {
			t.Fatalf("ValidateName(%q) = %v, rule says valid=%v", s, err, ok)
		}
		if err != nil {
			if !strings.HasPrefix(err.Error(), "watermark name ") {
				t.Fatalf("error does not name the watermark name: %v", err)
			}
			return
		}
		k, err := ParseKey(FormatKey("111122223333", s))
		if err != nil || k.Name != s || k.Account != "111122223333" {
			t.Fatalf("ParseKey(FormatKey(%q)) = %+v, %v", s, k, err)
		}
	})
}

// TestNameListKeepsSpaces: the command line's name lists keep every part as
// written; only empty parts are dropped.
func TestNameListKeepsSpaces(t *testing.T) {
	var l NameList
	for _, v := range []string{"  spaced ", "a-name, b-name,,", "plain"} {
		if err := l.Set(v); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"  spaced ", "a-name", " b-name", "plain"}
	if len(l) != len(want) {
		t.Fatalf("NameList = %q, want %q", l, want)
	}
	for i := range want {
		if l[i] != want[i] {
			t.Fatalf("NameList = %q, want %q", l, want)
		}
	}
	if err := ValidateName(l[0]); err != nil {
		t.Fatalf("AWS accepts spaces around a name: %v", err)
	}
}
