package watermark

import (
	"strings"
	"testing"
)

const whyText = "AWS sets the account part of a watermark key to the account that attached the watermark, " +
	"so it is the one part of a key nobody else can forge; with a wildcard or a partial id there, an image " +
	"watermarked by any other account (shared with you, or public) can match. Write the full account id, " +
	"for example 123456789012:golden, or set allow_any_account = true if you really mean to accept " +
	"watermarks attached by any account"

func TestParsePattern(t *testing.T) {
	tests := []struct {
		raw      string
		anyAcct  bool
		wantErr  string // exact error text; "" = valid
		acctGlob bool
	}{
		{raw: "123456789012:golden"},
		{raw: "123456789012:golden-*"},
		{raw: "123456789012:*"},
		{raw: "123456789012:gol?en"},
		{raw: "123456789012:a*"},
		{raw: "123456789012:??*"},
		{raw: "123456789012:base (v2) [x86]/@'_ ."},
		{raw: "123456789012:" + strings.Repeat("a", 128)},
		{raw: "", wantErr: "watermark key pattern is empty: write ACCOUNT:NAME, for example 123456789012:golden-*"},
		{raw: "golden", wantErr: `watermark key pattern "golden" has no ':': a pattern is ACCOUNT:NAME with * and ? allowed in the name, for example 123456789012:golden`},
		{raw: "*:golden", wantErr: `watermark key pattern "*:golden": the account part "*" is not a literal 12-digit account id. ` + whyText},
		{raw: "1111*:x", wantErr: `watermark key pattern "1111*:x": the account part "1111*" is not a literal 12-digit account id. ` + whyText},
		{raw: "12345678901?:golden", wantErr: `watermark key pattern "12345678901?:golden": the account part "12345678901?" is not a literal 12-digit account id. ` + whyText},
		{raw: "12345:golden", wantErr: `watermark key pattern "12345:golden": the account part "12345" is not a literal 12-digit account id. ` + whyText},
		{raw: ":golden", wantErr: `watermark key pattern ":golden": the account part "" is not a literal 12-digit account id. ` + whyText},
		{raw: "self:golden", wantErr: `watermark key pattern "self:golden": the account part "self" is not a literal 12-digit account id. ` + whyText},
		// allow_any_account
		{raw: "*:golden", anyAcct: true, acctGlob: true},
		{raw: "1111*:x*", anyAcct: true, acctGlob: true},
		{raw: "????????????:golden", anyAcct: true, acctGlob: true},
		{raw: "123456789012:golden", anyAcct: true},
		{raw: "*:*", anyAcct: true, acctGlob: true},
		{raw: ":golden", anyAcct: true, wantErr: `watermark key pattern ":golden": the account part is empty: write a 12-digit account id, or * for any account (allow_any_account is on)`},
		{raw: "12345:golden", anyAcct: true, wantErr: `watermark key pattern "12345:golden": the account part "12345" can never match a 12-digit account id: use 12 digits or ?, or add *`},
		{raw: "1234567890123*:golden", anyAcct: true, wantErr: `watermark key pattern "1234567890123*:golden": the account part "1234567890123*" can never match a 12-digit account id: use 12 digits or ?, or add *`},
		{raw: "abc*:golden", anyAcct: true, wantErr: `watermark key pattern "abc*:golden": the account part "abc*" has the character 'a' at position 1: an account pattern may contain only digits and the wildcards * and ?`},
		// name part
		{raw: "123456789012:", wantErr: `watermark key pattern "123456789012:": the name part is empty: write a watermark name or a pattern such as 123456789012:golden-*`},
		{raw: "123456789012:ab", wantErr: `watermark key pattern "123456789012:ab": watermark name "ab" is 2 characters long: a name must be 3-128 characters`},
		{raw: "123456789012:a?", wantErr: `watermark key pattern "123456789012:a?": the name part matches only names of 2 characters, but watermark names have at least 3: add characters or *`},
		{raw: "123456789012:gold:en", wantErr: `watermark key pattern "123456789012:gold:en" has a second ':' (position 5 of the name part): a key has exactly one ':' between the account id and the name, and names cannot contain ':'`},
		{raw: "123456789012:gold\\*", wantErr: `watermark key pattern "123456789012:gold\\*": the name part has the character '\\' at position 5: a name pattern may contain only letters (A-Z, a-z), digits (0-9), spaces and ( ) [ ] . / - ' @ _, and the wildcards * and ?`},
		{raw: "123456789012:gold#", wantErr: `watermark key pattern "123456789012:gold#": the name part has the character '#' at position 5: a name pattern may contain only letters (A-Z, a-z), digits (0-9), spaces and ( ) [ ] . / - ' @ _, and the wildcards * and ?`},
		{raw: "123456789012:gøld*", wantErr: `watermark key pattern "123456789012:gøld*": the name part has the character 'ø' at position 2: a name pattern may contain only letters (A-Z, a-z), digits (0-9), spaces and ( ) [ ] . / - ' @ _, and the wildcards * and ?`},
		{raw: "123456789012:" + strings.Repeat("a", 129), wantErr: `watermark key pattern "123456789012:` + strings.Repeat("a", 127) + `...": watermark name "` + strings.Repeat("a", 129) + `" is 129 characters long: a name must be 3-128 characters`},
		{raw: "123456789012:" + strings.Repeat("?", 129) + "*", wantErr: `watermark key pattern "123456789012:` + strings.Repeat("?", 127) + `...": the name part needs at least 129 characters, but watermark names have at most 128`},
		{raw: "123456789012:" + strings.Repeat("a", 300), wantErr: `watermark key pattern "123456789012:` + strings.Repeat("a", 127) + `..." is 313 characters long: a key is a 12-digit account id, ':' and a name of at most 128 characters`},
	}
	for _, tt := range tests {
		p, err := ParsePattern(tt.raw, tt.anyAcct)
		if tt.wantErr != "" {
			if err == nil {
				t.Errorf("ParsePattern(%q, %v) = %+v, want error", tt.raw, tt.anyAcct, p)
			} else if err.Error() != tt.wantErr {
				t.Errorf("ParsePattern(%q, %v) error\n got: %s\nwant: %s", tt.raw, tt.anyAcct, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParsePattern(%q, %v): %v", tt.raw, tt.anyAcct, err)
			continue
		}
		if p.Raw != tt.raw || p.AccountIsGlob != tt.acctGlob {
			t.Errorf("ParsePattern(%q) = %+v", tt.raw, p)
		}
		if acct, name, _ := strings.Cut(tt.raw, ":"); p.Account != acct || p.Name != name {
			t.Errorf("ParsePattern(%q): account %q name %q", tt.raw, p.Account, p.Name)
		}
	}
}

func TestPatternMatchKey(t *testing.T) {
	tests := []struct {
		pattern string
		anyAcct bool
		key     string
		want    bool
	}{
		{"123456789012:golden", false, "123456789012:golden", true},
		{"123456789012:golden", false, "123456789012:golden-2", false},
		{"123456789012:golden", false, "111122223333:golden", false},
		{"123456789012:golden-*", false, "123456789012:golden-base", true},
		{"123456789012:golden-*", false, "123456789012:golden-", true},
		{"123456789012:golden-*", false, "1234567890123:golden-x", false},
		{"123456789012:golden-*", false, "0123456789012:golden-x", false},
		{"123456789012:*", false, "123456789012:anything", true},
		{"123456789012:*", false, "12345678901:2:x", false},
		{"123456789012:gol?en", false, "123456789012:golden", true},
		{"123456789012:gol?en", false, "123456789012:golen", false},
		{"123456789012:golden", false, "golden", false},
		{"123456789012:golden", false, "", false},
		{"*:golden", true, "111122223333:golden", true},
		{"*:golden", true, "111122223333:golden2", false},
		{"1111*:x*", true, "111122223333:xyz", true},
		{"1111*:x*", true, "211122223333:xyz", false},
		{"*:*", true, "no-colon", false},
	}
	for _, tt := range tests {
		p, err := ParsePattern(tt.pattern, tt.anyAcct)
		if err != nil {
			t.Fatalf("ParsePattern(%q): %v", tt.pattern, err)
		}
		if got := p.MatchKey(tt.key); got != tt.want {
			t.Errorf("%q.MatchKey(%q) = %v, want %v", tt.pattern, tt.key, got, tt.want)
		}
	}
	if (Pattern{}).MatchKey("123456789012:x") {
		t.Errorf("the zero Pattern matched")
	}
}

func TestParsePatterns(t *testing.T) {
	ps, errs := ParsePatterns([]string{"123456789012:a*", "*:b", "123456789012:a*", "x"}, false)
	if len(ps) != 1 || ps[0].Raw != "123456789012:a*" {
		t.Errorf("patterns = %+v, want the one valid pattern once", ps)
	}
	want := []string{
		`watermark_keys[1]: watermark key pattern "*:b": the account part "*" is not a literal 12-digit account id. ` + whyText,
		`watermark_keys[3]: watermark key pattern "x" has no ':': a pattern is ACCOUNT:NAME with * and ? allowed in the name, for example 123456789012:x`,
	}
	if len(errs) != len(want) {
		t.Fatalf("errors = %v, want %d", errs, len(want))
	}
	for i := range want {
		if errs[i].Error() != want[i] {
			t.Errorf("error %d\n got: %s\nwant: %s", i, errs[i], want[i])
		}
	}
}

// FuzzParsePattern: parsing never panics; an accepted pattern has a
// literal 12-digit account unless allowAnyAccount, and then matches a key
// only with exactly that account; an accepted literal name is a valid name.
func FuzzParsePattern(f *testing.F) {
	for _, s := range []string{
		"123456789012:golden", "123456789012:gold*", "*:golden", "1111*:x", "", ":", "123456789012:",
		"123456789012:a?", "123456789012:gold:en", "123456789012:gøld", "????????????:*", "123456789012:\xff",
	} {
		f.Add(s, false, "123456789012:golden")
		f.Add(s, true, "111122223333:gold")
	}
	f.Fuzz(func(t *testing.T, raw string, anyAcct bool, key string) {
		p, err := ParsePattern(raw, anyAcct)
		if err != nil {
			if err.Error() == "" {
				t.Fatalf("empty error for %q", raw)
			}
			return
		}
		if p.Raw != raw || p.Account+":"+p.Name != raw {
			t.Fatalf("ParsePattern(%q) = %+v: parts do not rebuild the pattern", raw, p)
		}
		if !anyAcct {
			if p.AccountIsGlob || !IsAccountID(p.Account) {
				t.Fatalf("ParsePattern(%q, false) accepted account %q", raw, p.Account)
			}
		}
		if !HasWildcard(p.Name) {
			if err := ValidateName(p.Name); err != nil {
				t.Fatalf("ParsePattern(%q) accepted an invalid literal name: %v", raw, err)
			}
		}
		if p.MatchKey(key) {
			acct, name, ok := strings.Cut(key, ":")
			if !ok {
				t.Fatalf("%q matched key %q without ':'", raw, key)
			}
			if !p.AccountIsGlob && acct != p.Account {
				t.Fatalf("%q matched key %q of another account", raw, key)
			}
			if !Glob(p.Name, name) {
				t.Fatalf("%q matched key %q but the name does not glob", raw, key)
			}
		}
		// The pattern matches the key made of its own literal account and
		// literal name.
		if !p.AccountIsGlob && !HasWildcard(p.Name) && !p.MatchKey(raw) {
			t.Fatalf("literal pattern %q does not match itself", raw)
		}
	})
}
