package main

import (
	"encoding/csv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/ec2emu"
	rpt "github.com/amiwatermark/packer-plugin-amiwatermark/internal/report"
)

// CSV formula injection.

// hostile are cells a spreadsheet would run as formulas.
var hostile = []string{`=HYPERLINK("http://evil.example/x","click")`, `+cmd|' /C calc'!A0`, `@SUM(1)`, `-2+3`, "\tTAB=1", "\rCR=1"}

func TestCSVCell(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", ""}, {"golden", "golden"}, {"a=b", "a=b"}, {"'=x", "'=x"},
		{"=1+1", "'=1+1"}, {"+1", "'+1"}, {"-1", "'-1"}, {"@x", "'@x"}, {"\tx", "'\tx"}, {"\rx", "'\rx"},
	} {
		if got := rpt.Cell(c.in); got != c.want {
			t.Errorf("rpt.Cell(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func FuzzCSVCell(f *testing.F) {
	for _, h := range hostile {
		f.Add(h)
	}
	f.Add("ok")
	f.Fuzz(func(t *testing.T, s string) {
		got := rpt.Cell(s)
		if got != "" && strings.ContainsRune("=+-@\t\r", rune(got[0])) {
			t.Fatalf("rpt.Cell(%q) = %q begins with a formula character", s, got)
		}
		if got != s && got != "'"+s {
			t.Fatalf("rpt.Cell(%q) = %q: neither the cell nor the cell quoted", s, got)
		}
	})
}

// seedHostile seeds, in us-east-1, images of another account shared with
// the caller whose names, descriptions and tags are hostile cells.
func seedHostile(e *emu) []string {
	var imgs []ec2emu.SeedImage
	for _, h := range hostile {
		imgs = append(imgs, ec2emu.SeedImage{Region: regionEast, Account: acctOther, Name: h, Description: h,
			Tags: map[string]string{"Name": h, h: h}, CreationDate: ts(e.Emulator.Now().Add(-testDay)), SharedWith: []string{acctMe}})
	}
	return e.seed(imgs...)
}

// wantSafeCSV parses out as CSV and checks that no cell begins with a
// formula character and that every hostile name is there, quoted.
func wantSafeCSV(t *testing.T, what, out string) {
	t.Helper()
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatalf("%s: parsing the CSV: %v\n%s", what, err, out)
	}
	names := map[string]bool{}
	for _, rec := range recs {
		for _, c := range rec {
			if c != "" && strings.ContainsRune("=+-@\t\r", rune(c[0])) {
				t.Errorf("%s: cell %q begins with a formula character", what, c)
			}
			names[c] = true
		}
	}
	for _, h := range hostile {
		if !names["'"+h] {
			t.Errorf("%s: no cell %q (the name, quoted)\n%s", what, "'"+h, out)
		}
	}
}

func TestCSVNeutralisesFormulas(t *testing.T) {
	o := newOrgEmu(t)
	ids := seedHostile(o.emu)
	crit := writeFile(t, "policy.json", simCriteria)
	code, out, errOut := o.cli("simulate", "--csv", "--criteria", crit, "--regions", regionEast)
	wantCode(t, code, 0, out, errOut)
	wantSafeCSV(t, "simulate --csv", out)

	args := []string{"verify", "--csv", "--regions", regionEast, "--require-key", acctMe + ":golden-base"}
	code, out, errOut = o.cli(append(args, ids...)...)
	wantCode(t, code, 1, out, errOut)
	wantSafeCSV(t, "verify --csv", out)

	// inspect lists the AMIs the account's Allowed AMIs do not allow.
	c := o.EC2(regionEast, acctMe)
	if _, err := c.EnableAllowedImagesSettings(ctxT(t), &ec2.EnableAllowedImagesSettingsInput{
		AllowedImagesSettingsState: types.AllowedImagesSettingsEnabledStateAuditMode}); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = o.cli(append([]string{"inspect", "--csv", "--regions", regionEast}, ids...)...)
	wantCode(t, code, 0, out, errOut)
	wantSafeCSV(t, "inspect --csv", out)
}
