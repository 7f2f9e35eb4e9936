// Package watermark holds the pure domain rules of EC2 AMI watermarks: names,
// keys, key patterns, the 5-limit, attach/detach plans, image selection,
// lineage and Allowed-AMIs criteria evaluation. It makes no AWS calls.
package watermark

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

const (
	// MaxPerImage is the most watermarks one AMI can carry, inherited ones
	// included.
	MaxPerImage = 5
	// MinNameLen and MaxNameLen bound a watermark name's length.
	MinNameLen = 3
	MaxNameLen = 128
	// NameCharsHelp lists the characters a watermark name may use.
	NameCharsHelp = "letters (A-Z, a-z), digits (0-9), spaces and ( ) [ ] . / - ' @ _"
)

// AccountIDLen is the length of an AWS account id.
const AccountIDLen = 12

var accountRE = regexp.MustCompile(`^[0-9]{12}$`)

// IsAccountID reports whether s is a literal 12-digit AWS account id.
func IsAccountID(s string) bool { return accountRE.MatchString(s) }

func nameChar(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return true
	}
	return strings.ContainsRune(" ()[]./-'@_", r)
}

// ValidateName checks a watermark name against the AWS rule: 3-128 characters
// of letters, digits, space and ()[]./-'@_ (ASCII only). The error names the
// name and says how to fix it.
func ValidateName(name string) error {
	if strings.Contains(name, ":") {
		example := name[strings.LastIndex(name, ":")+1:]
		if example == "" {
			example = "golden-base"
		}
		return fmt.Errorf("watermark name %q contains ':': give the name only (for example %q); AWS adds the account id itself and the key becomes ACCOUNT:NAME", truncate(name), example)
	}
	n := len(name)
	if n < MinNameLen || n > MaxNameLen {
		return fmt.Errorf("watermark name %q is %d characters long: a name must be %d-%d characters", truncate(name), n, MinNameLen, MaxNameLen)
	}
	for i, r := range name {
		if !nameChar(r) {
			return fmt.Errorf("watermark name %q has the character %q at position %d: a name may contain only %s", truncate(name), r, i+1, NameCharsHelp)
		}
	}
	return nil
}

// truncate keeps error messages readable for very long input.
func truncate(s string) string {
	const max = 140
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

// Key is a watermark key: ACCOUNT:NAME.
type Key struct {
	Account string
	Name    string
}

// String renders the key as AWS does.
func (k Key) String() string { return k.Account + ":" + k.Name }

// FormatKey returns account:name.
func FormatKey(account, name string) string { return account + ":" + name }

// ParseKey splits a watermark key at its first colon and checks that the
// account part is a 12-digit id and the name part a valid name.
func ParseKey(key string) (Key, error) {
	acct, name, ok := strings.Cut(key, ":")
	if !ok {
		return Key{}, fmt.Errorf("watermark key %q has no ':': a key is ACCOUNT:NAME, for example 123456789012:golden", truncate(key))
	}
	if !IsAccountID(acct) {
		return Key{}, fmt.Errorf("watermark key %q: the account part %q is not a 12-digit account id", truncate(key), truncate(acct))
	}
	if err := ValidateName(name); err != nil {
		return Key{}, fmt.Errorf("watermark key %q: %w", truncate(key), err)
	}
	return Key{Account: acct, Name: name}, nil
}

// SplitKey splits a key as EC2 renders it (account:name) without validating.
func SplitKey(key string) (account, name string) {
	a, n, ok := strings.Cut(key, ":")
	if !ok {
		return "", key
	}
	return a, n
}

// NameList is a list of watermark names or keys given as text, as a
// command line gives them: each value is split at commas (a name or key
// cannot contain one) and every part is kept exactly as written. Spaces
// around a name are part of it, as in a template's list and as AWS keeps
// them: "golden" and " golden" are two names with two keys. Empty parts are
// dropped. It implements flag.Value.
type NameList []string

// String renders the list comma-separated.
func (l *NameList) String() string {
	if l == nil {
		return ""
	}
	return strings.Join(*l, ",")
}

// Set adds the comma-separated names of v.
func (l *NameList) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}
