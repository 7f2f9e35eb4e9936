package main

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/awsconfig"
	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/watermark"
)

// The environment variables of the function (docs/imagebuilder.md).
const (
	envWatermarks        = "AMIWATERMARK_WATERMARKS"
	envDetach            = "AMIWATERMARK_DETACH"
	envReattachInherited = "AMIWATERMARK_REATTACH_INHERITED"
	envRequireAllowed    = "AMIWATERMARK_REQUIRE_ALLOWED"
	envCriteria          = "AMIWATERMARK_CRITERIA"
	envDryRun            = "AMIWATERMARK_DRY_RUN"
	envRequestTimeout    = "AMIWATERMARK_REQUEST_TIMEOUT"
	envRoleName          = "AMIWATERMARK_ROLE_NAME"
	envSkipOtherAccounts = "AMIWATERMARK_SKIP_OTHER_ACCOUNTS"
)

// maxCriteria bounds AMIWATERMARK_CRITERIA (Lambda's environment holds 4 KB
// in all; the bound keeps a value from elsewhere cheap to parse).
const maxCriteria = 64 << 10

// config is the function's configuration, read from the environment once
// at start.
type config struct {
	Attach            []string
	Detach            []string
	KeepInherited     bool
	RequireAllowed    bool
	Criteria          watermark.Criteria
	DryRun            bool
	RequestTimeout    string
	RoleName          string
	SkipOtherAccounts bool
}

// roleNameRE is an IAM role name, optionally after a path (path/to/Name).
var roleNameRE = regexp.MustCompile(`^([\w+=,.@-]+/)*[\w+=,.@-]{1,64}$`)

// loadConfig reads and checks the configuration; getenv is os.Getenv. The
// error names the variable and says how to fix it.
func loadConfig(getenv func(string) string) (*config, error) {
	c := &config{}
	var err error
	if c.Attach, err = nameList(envWatermarks, getenv(envWatermarks), false); err != nil {
		return nil, err
	}
	if c.Detach, err = nameList(envDetach, getenv(envDetach), true); err != nil {
		return nil, err
	}
	if len(c.Attach) == 0 && len(c.Detach) == 0 {
		return nil, fmt.Errorf("%s is not set: give the watermark names to attach, comma-separated (for example %s=golden-base), or %s", envWatermarks, envWatermarks, envDetach)
	}
	reattach := true
	for _, b := range []struct {
		name string
		dst  *bool
	}{{envReattachInherited, &reattach}, {envRequireAllowed, &c.RequireAllowed}, {envDryRun, &c.DryRun}, {envSkipOtherAccounts, &c.SkipOtherAccounts}} {
		if *b.dst, err = boolVar(b.name, getenv(b.name), *b.dst); err != nil {
			return nil, err
		}
	}
	c.KeepInherited = !reattach
	if c.Criteria, err = criteriaVar(getenv(envCriteria)); err != nil {
		return nil, err
	}
	c.RequestTimeout = strings.TrimSpace(getenv(envRequestTimeout))
	if _, err := awsconfig.ParseDurationSetting(envRequestTimeout, c.RequestTimeout, awsconfig.DefaultRequestTimeout, "30s, 1m or 500ms"); err != nil {
		return nil, err
	}
	c.RoleName = strings.TrimSpace(getenv(envRoleName))
	if c.RoleName != "" && !roleNameRE.MatchString(c.RoleName) {
		return nil, fmt.Errorf("%s=%q is not an IAM role name: give the role's name (letters, digits and +=,.@_-, at most 64 characters, optionally after a path/), the same in every account the AMIs are distributed to", envRoleName, clip(c.RoleName))
	}
	return c, nil
}

// nameList reads a comma-separated list of watermark names (and, for
// AMIWATERMARK_DETACH, ACCOUNT:NAME keys); blanks around the items and
// empty items are dropped.
func nameList(env, v string, keys bool) ([]string, error) {
	var out []string
	for _, item := range strings.Split(v, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		var err error
		if keys && strings.Contains(item, ":") {
			_, err = watermark.ParseKey(item)
		} else {
			err = watermark.ValidateName(item)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %q: %v", env, clip(item), err)
		}
		out = append(out, item)
	}
	return out, nil
}

// boolVar reads true/false (also 1/0); "" is def.
func boolVar(env, v string, def bool) (bool, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return def, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("%s=%q is not true or false", env, clip(v))
	}
	return b, nil
}

// criteriaVar reads Allowed-AMIs criteria JSON given inline.
func criteriaVar(v string) (watermark.Criteria, error) {
	if strings.TrimSpace(v) == "" {
		return nil, nil
	}
	if len(v) > maxCriteria {
		return nil, fmt.Errorf("%s is %d bytes: Allowed-AMIs criteria JSON is at most %d bytes", envCriteria, len(v), maxCriteria)
	}
	c, err := watermark.ParseCriteriaJSON([]byte(v))
	if err != nil {
		return nil, fmt.Errorf("%s: %v", envCriteria, err)
	}
	return c, nil
}

// requestTimeout is the checked AMIWATERMARK_REQUEST_TIMEOUT.
func (c *config) requestTimeout() time.Duration {
	d, _ := awsconfig.ParseDurationSetting(envRequestTimeout, c.RequestTimeout, awsconfig.DefaultRequestTimeout, "")
	return d
}

// clip keeps an echoed value short.
func clip(s string) string {
	if len(s) > 120 {
		return s[:120] + "..."
	}
	return s
}
