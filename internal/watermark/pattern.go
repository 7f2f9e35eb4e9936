package watermark

import (
	"errors"
	"fmt"
	"strings"
)

// Pattern is a watermark key pattern as the data source's watermark_keys
// take it: ACCOUNT:NAME, where NAME may use the EC2 wildcards * and ?.
//
// The account part is a literal 12-digit account id unless the pattern was
// parsed with allowAnyAccount, in which case it may use * and ? too. AWS sets
// the account part of a key to the account that attached the watermark, so a
// literal account is what makes a key impossible to forge: anyone can attach
// a watermark called "golden" to their own image, but only the owner of
// account 123456789012 can produce the key 123456789012:golden.
type Pattern struct {
	// Raw is the pattern as the user wrote it. It is also the value sent in
	// the image-watermark.watermark-key filter: EC2 globs with the same
	// wildcards.
	Raw string
	// Account is the account part (a literal id, or a glob when
	// AccountIsGlob).
	Account string
	// Name is the name part (a glob).
	Name string
	// AccountIsGlob is true when Account contains a wildcard (only possible
	// with allowAnyAccount).
	AccountIsGlob bool

	account globPattern // nil when Account is literal
	name    globPattern
}

// MaxPatternLen bounds the length of one pattern (account, colon and name).
const MaxPatternLen = AccountIDLen + 1 + 2*MaxNameLen

// accountWhy is the part of the error text that says why the account part of
// a pattern must be literal, and how to opt out.
func accountWhy(n Names) string {
	return "AWS sets the account part of a watermark key to the account that attached the watermark, " +
		"so it is the one part of a key nobody else can forge; with a wildcard or a partial id there, an image " +
		"watermarked by any other account (shared with you, or public) can match. Write the full account id, " +
		"for example 123456789012:golden, or " + n.Of(TermEnableAnyAccount) + " if you really mean to accept " +
		"watermarks attached by any account"
}

// patternError is a FieldError of a key pattern (TermKeys, no index yet).
func patternError(format string, a ...any) *FieldError {
	msg := fmt.Sprintf(format, a...)
	return &FieldError{Field: TermKeys, Index: -1, Problem: msg, render: func(Names) string { return msg }}
}

// ParsePattern parses and validates one key pattern. With allowAnyAccount
// false the account part must be a literal 12-digit id; with it true the
// account part may be a glob of digits, * and ?. The name part must be a
// valid watermark name, or a glob over name characters that can match at
// least one valid name. Errors quote the pattern and say how to fix it; they
// are *FieldError (field TermKeys).
func ParsePattern(raw string, allowAnyAccount bool) (Pattern, error) {
	p, err := parsePattern(raw, allowAnyAccount)
	if err != nil {
		var fe *FieldError
		if errors.As(err, &fe) {
			return Pattern{}, fe
		}
		return Pattern{}, patternError("%s", err.Error())
	}
	return p, nil
}

func parsePattern(raw string, allowAnyAccount bool) (Pattern, error) {
	if raw == "" {
		return Pattern{}, fmt.Errorf("watermark key pattern is empty: write ACCOUNT:NAME, for example 123456789012:golden-*")
	}
	if len(raw) > MaxPatternLen {
		return Pattern{}, fmt.Errorf("watermark key pattern %q is %d characters long: a key is a 12-digit account id, ':' and a name of at most %d characters", truncate(raw), len(raw), MaxNameLen)
	}
	acct, name, ok := strings.Cut(raw, ":")
	if !ok {
		return Pattern{}, fmt.Errorf("watermark key pattern %q has no ':': a pattern is ACCOUNT:NAME with * and ? allowed in the name, for example 123456789012:%s", raw, raw)
	}
	p := Pattern{Raw: raw, Account: acct, Name: name}

	// Account part.
	switch {
	case IsAccountID(acct):
	case !allowAnyAccount:
		return Pattern{}, &FieldError{Field: TermKeys, Index: -1,
			Problem: fmt.Sprintf("watermark key pattern %q: the account part %q is not a literal 12-digit account id. %s", raw, acct, accountWhy(nil)),
			render: func(n Names) string {
				return fmt.Sprintf("watermark key pattern %q: the account part %q is not a literal 12-digit account id. %s", raw, acct, accountWhy(n))
			}}
	default:
		if err := checkAccountGlob(raw, acct); err != nil {
			return Pattern{}, err
		}
		p.AccountIsGlob = true
		p.account = compileGlob(acct)
	}

	// Name part.
	if err := checkNamePattern(raw, name); err != nil {
		return Pattern{}, err
	}
	p.name = compileGlob(name)
	return p, nil
}

// checkAccountGlob validates a wildcard account part (allow_any_account).
func checkAccountGlob(raw, acct string) error {
	if acct == "" {
		msg := func(n Names) string {
			return fmt.Sprintf("watermark key pattern %q: the account part is empty: write a 12-digit account id, or * for any account (%s is on)", raw, n.Of(TermAllowAnyAccount))
		}
		return &FieldError{Field: TermKeys, Index: -1, Problem: msg(nil), render: msg}
	}
	fixed, star := 0, false
	for i, r := range acct {
		switch {
		case r >= '0' && r <= '9', r == '?':
			fixed++
		case r == '*':
			star = true
		default:
			return fmt.Errorf("watermark key pattern %q: the account part %q has the character %q at position %d: an account pattern may contain only digits and the wildcards * and ?", raw, acct, r, i+1)
		}
	}
	if fixed > AccountIDLen || (!star && fixed != AccountIDLen) {
		return fmt.Errorf("watermark key pattern %q: the account part %q can never match a 12-digit account id: use 12 digits or ?, or add *", raw, acct)
	}
	return nil
}

// checkNamePattern validates the name part: name characters plus * and ?,
// and able to match a name of MinNameLen..MaxNameLen characters.
func checkNamePattern(raw, name string) error {
	if name == "" {
		return fmt.Errorf("watermark key pattern %q: the name part is empty: write a watermark name or a pattern such as %sgolden-*", raw, raw)
	}
	fixed, star, quest := 0, false, false
	for i, r := range name {
		switch {
		case r == '*':
			star = true
		case r == '?':
			quest = true
			fixed++
		case r == ':':
			return fmt.Errorf("watermark key pattern %q has a second ':' (position %d of the name part): a key has exactly one ':' between the account id and the name, and names cannot contain ':'", truncate(raw), i+1)
		case nameChar(r):
			fixed++
		default:
			return fmt.Errorf("watermark key pattern %q: the name part has the character %q at position %d: a name pattern may contain only %s, and the wildcards * and ?", truncate(raw), r, i+1, NameCharsHelp)
		}
	}
	if !star && !quest {
		// A literal name: the plain name rules apply.
		if err := ValidateName(name); err != nil {
			return fmt.Errorf("watermark key pattern %q: %w", truncate(raw), err)
		}
		return nil
	}
	if fixed > MaxNameLen {
		return fmt.Errorf("watermark key pattern %q: the name part needs at least %d characters, but watermark names have at most %d", truncate(raw), fixed, MaxNameLen)
	}
	if !star && fixed < MinNameLen {
		return fmt.Errorf("watermark key pattern %q: the name part matches only names of %d characters, but watermark names have at least %d: add characters or *", raw, fixed, MinNameLen)
	}
	return nil
}

// MatchKey reports whether the watermark key matches the pattern: the
// account part exactly (or by glob with allow_any_account) and the name part
// by glob. A key without ':' never matches.
func (p Pattern) MatchKey(key string) bool {
	acct, name, ok := strings.Cut(key, ":")
	if !ok {
		return false
	}
	if p.account == nil {
		if acct != p.Account {
			return false
		}
	} else if !p.account.match(acct) {
		return false
	}
	if p.name == nil { // zero Pattern
		return false
	}
	return p.name.match(name)
}

// String returns the raw pattern.
func (p Pattern) String() string { return p.Raw }

// ParsePatterns parses every pattern and returns all errors, each a
// *FieldError with the position in the list (watermark_keys[i]).
func ParsePatterns(raws []string, allowAnyAccount bool) ([]Pattern, []error) {
	var (
		out  []Pattern
		errs []error
		seen = map[string]bool{}
	)
	for i, raw := range raws {
		p, err := ParsePattern(raw, allowAnyAccount)
		if err != nil {
			inner := err.(*FieldError)
			errs = append(errs, &FieldError{Field: TermKeys, Index: i, Problem: inner.Problem,
				render: func(n Names) string { return fmt.Sprintf("%s[%d]: %s", n.Of(TermKeys), i, inner.Render(n)) }})
			continue
		}
		if seen[raw] {
			continue // a duplicate changes nothing
		}
		seen[raw] = true
		out = append(out, p)
	}
	return out, errs
}
