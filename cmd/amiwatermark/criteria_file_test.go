package main

import (
	"runtime"
	"strings"
	"testing"
)

// TestCriteriaFileRefusedInEveryCommand: every command that reads
// --criteria refuses a deeply nested file, text after the JSON and null
// with a usage error naming the file, at once and in bounded memory
// (watermark.ReadCriteriaFile).
func TestCriteriaFileRefusedInEveryCommand(t *testing.T) {
	deep := writeFile(t, "deep.json", strings.Repeat("[", 40000)+strings.Repeat("]", 40000))
	garbage := writeFile(t, "garbage.json", `[{"ImageProviders":["amazon"]}]]]]}}}garbage`)
	twoLists := writeFile(t, "two.json", `[{"ImageProviders":["amazon"]}],[{"ImageProviders":["none"]}]`)
	binary := writeFile(t, "binary.json", "[{\"ImageProviders\":[\"amazon\"]}]\x00\xfe")
	null := writeFile(t, "null.json", "null\n")
	files := []struct{ path, want string }{
		{deep, "reading the criteria JSON: the JSON is nested more than 32 levels deep"},
		{garbage, `reading the criteria JSON: unexpected text after the JSON value at byte 32 ("]]]}}}garbage")`},
		{twoLists, "reading the criteria JSON: unexpected text after the JSON value at byte 32"},
		{binary, `reading the criteria JSON: unexpected text after the JSON value at byte 32 ("\x00\xfe")`},
		{null, "reading the criteria JSON: the JSON is null, not a list of criteria or an object"},
	}
	commands := [][]string{
		{"verify", "--region", regionEast, "--criteria", "FILE", "ami-0123456789abcdef0"},
		{"simulate", "--region", regionEast, "--criteria", "FILE"},
		{"attach", "--region", regionEast, "--name", "golden", "--criteria", "FILE", "ami-0123456789abcdef0"},
	}
	for _, f := range files {
		for _, c := range commands {
			args := append([]string{}, c...)
			for i := range args {
				if args[i] == "FILE" {
					args[i] = f.path
				}
			}
			var code int
			var out, errOut string
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			code, out, errOut = runCLI(args...)
			runtime.ReadMemStats(&after)
			wantCode(t, code, 2, out, errOut)
			wantContains(t, args[0]+" stderr", errOut, "--criteria "+f.path+": "+f.want)
			if n := after.TotalAlloc - before.TotalAlloc; n > 16<<20 {
				t.Errorf("%s with %s allocated %d bytes, want at most 16 MiB", args[0], f.path, n)
			}
		}
	}
}

// TestCriteriaPolicyMarketplaceAlias: a declarative policy's
// allowed_image_providers take the owner aliases AWS Organizations documents
// (aws_marketplace, aws_backup_vault), as the API's aws-marketplace and
// aws-backup-vault.
func TestCriteriaPolicyMarketplaceAlias(t *testing.T) {
	e := newEmu(t)
	e.seedSimulate()
	policy := writeFile(t, "policy.json", `{"ec2_attributes":{"allowed_images_settings":{"state":{"@@assign":"enabled"},
		"image_criteria":{"criteria_1":{"allowed_image_providers":{"@@assign":["aws_marketplace","aws_backup_vault"]}}}}}}`)
	code, out, errOut := e.cli("verify", "--region", regionEast, "--criteria", policy, amiMarket)
	wantCode(t, code, 0, out, errOut)
	code, out, errOut = e.cli("verify", "--region", regionEast, "--criteria", policy, amiPublic)
	wantCode(t, code, 1, out, errOut)
	wantContains(t, "stdout", out, "provider "+acctOther+" not in ImageProviders")
}
