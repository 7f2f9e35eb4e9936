package main

import (
	"context"
	"encoding/json"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/ec2emu"
	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/ec2emu/emutest"
)

const templateFile = "../../example/imagebuilder/template.json"

// template is the part of example/imagebuilder/template.json the tests read.
type template struct {
	Parameters map[string]json.RawMessage `json:"Parameters"`
	Resources  map[string]struct {
		Type       string          `json:"Type"`
		Properties json.RawMessage `json:"Properties"`
	} `json:"Resources"`
}

func readTemplate(t *testing.T) template {
	t.Helper()
	b, err := os.ReadFile(templateFile)
	if err != nil {
		t.Fatal(err)
	}
	var tpl template
	if err := json.Unmarshal(b, &tpl); err != nil {
		t.Fatalf("%s: %v", templateFile, err)
	}
	return tpl
}

// roleActions lists the IAM actions of the function role's inline
// policies (both branches of an Fn::If included).
func roleActions(t *testing.T, tpl template) []string {
	t.Helper()
	var props struct {
		Policies []json.RawMessage `json:"Policies"`
	}
	if err := json.Unmarshal(tpl.Resources["FunctionRole"].Properties, &props); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				if k == "Action" {
					for _, a := range asList(e) {
						seen[a] = true
					}
					continue
				}
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	for _, p := range props.Policies {
		var v any
		_ = json.Unmarshal(p, &v)
		walk(v)
	}
	out := make([]string, 0, len(seen))
	for a := range seen {
		out = append(out, a)
	}
	sort.Strings(out)
	return out
}

func asList(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			s, _ := e.(string)
			out = append(out, s)
		}
		return out
	}
	return nil
}

// serviceOf names the IAM service of an action the emulator counted.
func serviceOf(action string) string {
	switch action {
	case "GetImage", "SendWorkflowStepAction", "GetWorkflowStepExecution", "ListWaitingWorkflowSteps":
		return "imagebuilder"
	case "AssumeRole", "GetCallerIdentity":
		return "sts"
	}
	return "ec2"
}

// The role of the template grants exactly the actions an emulator run
// that takes every path calls: attach and detach (promotion), the
// Allowed-AMIs gate, an AMI distributed to another account reached through
// AMIWATERMARK_ROLE_NAME, and the step's answer.
func TestTemplateGrantsExactlyTheActionsCalled(t *testing.T) {
	srv := newEmulator(t, seedOpts{distributed: true, eastWatermarks: []ec2emu.SeedWatermark{{Key: "golden-candidate"}}})
	for _, s := range []struct{ region, account string }{{"us-east-1", buildAcct}, {"eu-west-1", buildAcct}, {"eu-west-1", distAcct}} {
		allowAccounts(t, srv, s.region, s.account)
	}
	srv.Emulator.ResetStats()
	r := runLambda(t, srv, "step-waiting.json", envDetach+"=golden-candidate", envRequireAllowed+"=true", envRoleName+"=AMIWatermarkDistributed")
	r.want(t, exitOK, outcomeResumed)
	var called []string
	for action := range srv.Emulator.Stats().Actions {
		called = append(called, serviceOf(action)+":"+action)
	}
	sort.Strings(called)
	granted := roleActions(t, readTemplate(t))
	if !slices.Equal(called, granted) {
		t.Fatalf("the run called %v\nthe template grants %v", called, granted)
	}
	t.Logf("IAM actions: %s", strings.Join(granted, ", "))
}

func allowAccounts(t *testing.T, srv *emutest.Server, region, account string) {
	t.Helper()
	c := srv.EC2(region, account)
	ctx := context.Background()
	if _, err := c.ReplaceImageCriteriaInAllowedImagesSettings(ctx, &ec2.ReplaceImageCriteriaInAllowedImagesSettingsInput{
		ImageCriteria: []ec2types.ImageCriterionRequest{{ImageProviders: []string{buildAcct, distAcct}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.EnableAllowedImagesSettings(ctx, &ec2.EnableAllowedImagesSettingsInput{AllowedImagesSettingsState: ec2types.AllowedImagesSettingsEnabledStateAuditMode}); err != nil {
		t.Fatal(err)
	}
}

// Every variable the function reads is a parameter of the template, set
// on the function.
func TestTemplateSetsEveryVariable(t *testing.T) {
	b, err := os.ReadFile(templateFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, env := range []string{envWatermarks, envDetach, envReattachInherited, envRequireAllowed, envCriteria, envDryRun, envRequestTimeout, envRoleName, envSkipOtherAccounts} {
		if !strings.Contains(string(b), `"`+env+`"`) {
			t.Errorf("the template does not set %s", env)
		}
	}
	var fn struct {
		Runtime, Handler string
		Architectures    []json.RawMessage
	}
	_ = json.Unmarshal(readTemplate(t).Resources["Function"].Properties, &fn)
	if fn.Runtime != "provided.al2023" || fn.Handler != "bootstrap" {
		t.Errorf("function %+v", fn)
	}
}

// The template's workflow is workflow.yaml, its WaitForAction step comes
// after distribution, and the rule matches that step's name.
func TestTemplateWorkflowGate(t *testing.T) {
	doc, err := os.ReadFile("../../example/imagebuilder/workflow.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tpl := readTemplate(t)
	var wf struct{ Type, Data string }
	_ = json.Unmarshal(tpl.Resources["GateWorkflow"].Properties, &wf)
	if wf.Data != string(doc) || wf.Type != "DISTRIBUTION" {
		t.Fatalf("the template's workflow (type %s) is not workflow.yaml", wf.Type)
	}
	steps := workflowSteps(string(doc))
	i := slices.Index(steps, "DistributeImage=DistributeImage")
	j := slices.Index(steps, gateStep+"=WaitForAction")
	if i < 0 || j < i {
		t.Fatalf("steps %v: want %s=WaitForAction after DistributeImage", steps, gateStep)
	}
	var rule struct {
		EventPattern struct {
			Detail struct {
				Name []string `json:"workflow-step-name"`
			} `json:"detail"`
		}
	}
	_ = json.Unmarshal(tpl.Resources["StepWaitingRule"].Properties, &rule)
	if !slices.Equal(rule.EventPattern.Detail.Name, []string{gateStep}) {
		t.Fatalf("the rule matches steps %v, want %s", rule.EventPattern.Detail.Name, gateStep)
	}
}

// workflowSteps lists "name=action" of a workflow document's steps (the
// "- name:" and "action:" lines, comments skipped).
func workflowSteps(doc string) []string {
	var out []string
	name := ""
	for _, line := range strings.Split(doc, "\n") {
		line = strings.TrimSpace(line)
		if v, ok := strings.CutPrefix(line, "- name:"); ok {
			name = strings.TrimSpace(v)
		} else if v, ok := strings.CutPrefix(line, "action:"); ok && name != "" {
			out = append(out, name+"="+strings.TrimSpace(v))
			name = ""
		}
	}
	return out
}
