package watermark

import (
	"errors"
	"strings"
	"testing"
)

// TestFieldErrorsRenderWithFrontEndNames: the rules' errors are typed
// (field, index, problem) and each front end words them with its names.
func TestFieldErrorsRenderWithFrontEndNames(t *testing.T) {
	cli := Names{TermKeys: "--require-key", TermAllowAnyAccount: "--allow-any-account", TermEnableAnyAccount: "give --allow-any-account",
		TermOwners: "--owners", TermLineage: "--lineage", TermDetach: "--detach", TermWatermarks: "--attach",
		TermDetachKey: "--detach %q", TermAssumeRole: "--profile"}

	_, errs := ParsePatterns([]string{"123456789012:golden-ok", "*:golden"}, false)
	var fe *FieldError
	if len(errs) != 1 || !errors.As(errs[0], &fe) || fe.Field != TermKeys || fe.Index != 1 {
		t.Fatalf("ParsePatterns errors = %#v", errs)
	}
	if s := errs[0].Error(); !strings.HasPrefix(s, `watermark_keys[1]: watermark key pattern "*:golden"`) || !strings.Contains(s, "or set allow_any_account = true if") {
		t.Errorf("default wording: %s", s)
	}
	if s := Render(errs[0], cli); !strings.HasPrefix(s, `--require-key[1]: watermark key pattern "*:golden"`) || !strings.Contains(s, "or give --allow-any-account if") || strings.Contains(s, "allow_any_account") {
		t.Errorf("CLI wording: %s", s)
	}
	_, err := ParsePattern(":x", true)
	if !errors.As(err, &fe) || fe.Index != -1 || !strings.Contains(Render(err, cli), "(--allow-any-account is on)") {
		t.Errorf("empty account part: %v", err)
	}

	_, oerrs := ParseOwners([]string{"self", "everyone"})
	if len(oerrs) != 1 || !errors.As(oerrs[0], &fe) || fe.Field != TermOwners || fe.Index != 1 ||
		!strings.HasPrefix(Render(oerrs[0], cli), `--owners[1] "everyone" is not an owner`) || !strings.HasPrefix(oerrs[0].Error(), `owners[1] "everyone"`) {
		t.Errorf("owners: %v", oerrs)
	}
	_, oerrs = ParseOwners(nil)
	if len(oerrs) != 1 || !strings.HasPrefix(Render(oerrs[0], cli), "--owners is required") {
		t.Errorf("owners required: %v", oerrs)
	}
	_, err = ParseLineage("derived")
	if !errors.As(err, &fe) || fe.Field != TermLineage || !strings.HasPrefix(Render(err, cli), `--lineage "derived" is not valid`) {
		t.Errorf("lineage: %v", err)
	}

	// Plan problems name the settings too.
	full := img(own("a", "ami-0"), own("b", "ami-0"), own("c", "ami-0"), own("d", "ami-0"), own("e", "ami-0"))
	p := PlanImage(full, true, Request{Attach: []string{"golden"}, Detach: []string{"zzz"}})
	var limit *Problem
	for i := range p.Problems {
		if p.Problems[i].Field == TermWatermarks {
			limit = &p.Problems[i]
		}
	}
	if limit == nil || !strings.Contains(limit.Error(), "with `detach` (for example detach = [") ||
		!strings.Contains(limit.Render(cli), "with `--detach` (for example --detach \"111122223333:a\")") || !strings.HasSuffix(limit.Render(cli), "in `--attach`") {
		t.Fatalf("limit problem: %+v", p.Problems)
	}
	both := PlanImage(img(), true, Request{Attach: []string{"golden"}, Detach: []string{"golden"}})
	if len(both.Problems) != 1 || both.Problems[0].Field != TermDetach || !strings.Contains(both.Problems[0].Render(cli), "is both in --detach and (as \"golden\") in --attach") {
		t.Fatalf("detach and attach: %+v", both.Problems)
	}
}

// TestPlanProblemsSpeakFrontEndNames: every plan problem that names a
// setting words it with the front end's names, none with the template keys.
func TestPlanProblemsSpeakFrontEndNames(t *testing.T) {
	cli := Names{TermDetach: "--detach", TermWatermarks: "--name", TermDetachKey: "--detach %q", TermAssumeRole: "a --profile of the owning account"}
	full := img(own("a", "ami-0"), own("b", "ami-0"), own("c", "ami-0"), own("d", "ami-0"), own("e", "ami-0"))
	notOwned := img()
	notOwned.OwnerID = "444455556666"
	cases := []struct {
		name string
		p    ImagePlan
		want string
	}{
		{"limit", PlanImage(full, true, Request{Attach: []string{"golden"}}), "detach keys you no longer need with `--detach` (for example --detach \"111122223333:a\") or request fewer names in `--name`"},
		{"not owned", PlanImage(notOwned, false, Request{Attach: []string{"golden"}}), "(for example with a --profile of the owning account)"},
		{"bad detach entry", PlanImage(img(), true, Request{Detach: []string{"12:x"}}), `--detach entry "12:x": watermark key "12:x"`},
	}
	for _, c := range cases {
		if len(c.p.Problems) != 1 {
			t.Fatalf("%s: problems %+v", c.name, c.p.Problems)
		}
		got := c.p.Problems[0].Render(cli)
		if !strings.Contains(got, c.want) {
			t.Errorf("%s: %s\nwant %s", c.name, got, c.want)
		}
		for _, tmpl := range []string{"detach = [", "assume_role", "`watermarks`", "`detach`", " detach entry"} {
			if strings.Contains(got, tmpl) {
				t.Errorf("%s: the CLI's message has the template's %q: %s", c.name, tmpl, got)
			}
		}
	}
}
