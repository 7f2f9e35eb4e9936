package main

import (
	"os"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestLoadConfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		want string // "" for success
		ok   func(c *config) bool
	}{
		{"attach", map[string]string{envWatermarks: " golden-base , golden-approved ,"}, "", func(c *config) bool {
			return strings.Join(c.Attach, "|") == "golden-base|golden-approved" && !c.KeepInherited && !c.DryRun
		}},
		{"detach only", map[string]string{envDetach: "candidate,111122223333:old-name"}, "", func(c *config) bool { return len(c.Detach) == 2 }},
		{"flags", map[string]string{envWatermarks: "golden", envReattachInherited: "false", envDryRun: "1", envRequireAllowed: "TRUE", envSkipOtherAccounts: "true"}, "", func(c *config) bool {
			return c.KeepInherited && c.DryRun && c.RequireAllowed && c.SkipOtherAccounts
		}},
		{"criteria", map[string]string{envWatermarks: "golden", envCriteria: `{"ImageCriteria":[{"ImageProviders":["amazon"]}]}`}, "", func(c *config) bool { return c.Criteria != nil }},
		{"role path", map[string]string{envWatermarks: "golden", envRoleName: "team/AMIWatermark"}, "", func(c *config) bool { return c.RoleName == "team/AMIWatermark" }},
		{"timeout", map[string]string{envWatermarks: "golden", envRequestTimeout: "10s"}, "", func(c *config) bool { return c.requestTimeout().Seconds() == 10 }},
		{"nothing", map[string]string{}, envWatermarks + " is not set", nil},
		{"bad name", map[string]string{envWatermarks: "ab"}, envWatermarks + `: "ab"`, nil},
		{"bad key", map[string]string{envWatermarks: "golden", envDetach: "12:x"}, envDetach, nil},
		{"bad bool", map[string]string{envWatermarks: "golden", envReattachInherited: "yes please"}, envReattachInherited, nil},
		{"bad criteria", map[string]string{envWatermarks: "golden", envCriteria: `[1]`}, envCriteria, nil},
		{"huge criteria", map[string]string{envWatermarks: "golden", envCriteria: strings.Repeat(" ", maxCriteria) + "{}"}, "at most", nil},
		{"bad timeout", map[string]string{envWatermarks: "golden", envRequestTimeout: "-1s"}, envRequestTimeout, nil},
		{"bad role", map[string]string{envWatermarks: "golden", envRoleName: "arn:aws:iam::1:role/x"}, envRoleName, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := loadConfig(func(k string) string { return tc.env[k] })
			if tc.want == "" {
				if err != nil || !tc.ok(c) {
					t.Fatalf("%+v %v", c, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

func TestParseEvent(t *testing.T) {
	read := func(f string) string { b, _ := os.ReadFile("testdata/" + f); return string(b) }
	step := read("step-waiting.json")
	for _, tc := range []struct{ name, event, want string }{
		{"step", step, ""},
		{"available", read("state-available.json"), ""},
		{"ec2", read("ec2-ami-state.json"), `source "aws.ec2"`},
		{"array", `[]`, "not a JSON object"},
		{"other type", strings.Replace(step, "Workflow Step Waiting", "Image Pipeline Execution", 1), "expected an EventBridge event"},
		{"no resources", strings.Replace(step, `"resources": ["arn:aws:imagebuilder:us-east-1:111122223333:image/golden-base/1.2.0/3"]`, `"resources": []`, 1), "has no resources"},
		{"recipe arn", strings.Replace(step, "image/golden-base/1.2.0/3", "image-recipe/golden-base/1.2.0", 1), "resources[0]"},
		{"no build", strings.Replace(step, "1.2.0/3", "1.2.0", 1), "resources[0]"},
		{"bad step", strings.Replace(step, "step-0a1b2c3d", "step-zz", 1), "workflow-step-execution-id"},
		{"no detail", strings.Replace(step, `"detail": {`, `"detail": null, "x": {`, 1), "detail is missing"},
		{"no status", strings.Replace(read("state-testing.json"), `"state": {"status": "TESTING"}`, `"state": {}`, 1), "no detail.state.status"},
		{"huge", strings.Repeat(" ", maxEventBytes+1), "more than"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev, err := parseEvent([]byte(tc.event))
			if tc.want == "" {
				if err != nil || ev.Image.Region != "us-east-1" || ev.Image.Account != "111122223333" {
					t.Fatalf("%+v %v", ev, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

// FuzzParseEvent: any input is an event or an error, never a panic; an
// accepted waiting step has an id Image Builder accepts.
func FuzzParseEvent(f *testing.F) {
	for _, name := range []string{"step-waiting.json", "state-available.json", "state-testing.json", "ec2-ami-state.json"} {
		b, _ := os.ReadFile("testdata/" + name)
		f.Add(b)
	}
	f.Add([]byte(`{"source":"aws.imagebuilder","detail-type":"EC2 Image Builder Image State Change","resources":["x"],"detail":[]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, err := parseEvent(b)
		if err != nil {
			return
		}
		if ev.Kind == kindStepWaiting && !stepIDRE.MatchString(ev.Step.StepExecutionID) {
			t.Fatalf("accepted step id %q", ev.Step.StepExecutionID)
		}
	})
}

func TestClipReason(t *testing.T) {
	long := strings.Repeat("é", 700) // 1 400 bytes
	for _, tc := range []struct{ in, want string }{
		{"a\n  b\tc", "a b c"},
		{strings.Repeat("x", 1024), strings.Repeat("x", 1024)},
	} {
		if got := clipReason(tc.in); got != tc.want {
			t.Errorf("clipReason(%q) = %q", tc.in, got)
		}
	}
	got := clipReason(long)
	if len(got) > maxReason || !utf8.ValidString(got) || !strings.HasSuffix(got, "...") {
		t.Fatalf("clipped to %d bytes, valid %v", len(got), utf8.ValidString(got))
	}
}

func FuzzClipReason(f *testing.F) {
	f.Add("nothing was changed:\n  - eu-west-1 ami-0123: the AMI already carries 5 watermarks")
	f.Add(strings.Repeat("ü", 600))
	f.Fuzz(func(t *testing.T, s string) {
		got := clipReason(s)
		if len(got) > maxReason || (utf8.ValidString(s) && !utf8.ValidString(got)) {
			t.Fatalf("clipReason gave %d bytes (valid %v)", len(got), utf8.ValidString(got))
		}
	})
}

func TestClientToken(t *testing.T) {
	a, b := clientToken(stepID), clientToken("step-0a1b2c3d-0000-4000-8000-00000000000b")
	if a != clientToken(stepID) || a == b || len(a) != 36 || strings.Count(a, "-") != 4 {
		t.Fatalf("tokens %q %q", a, b)
	}
}
