package main

import "testing"

func TestScratch(t *testing.T) {
	e := newEmu(t)
	now := e.seedSimulate()
	crit := writeFile(t, "c.json", `[{"ImageProviders":["amazon"]},{"ImageWatermarks":[{"WatermarkKey":"111122223333:golden-*"}]}]`)
	for _, args := range [][]string{
		{"simulate", "--region", "us-east-1", "--at", ts(now), "--criteria", crit},
		{"simulate", "--region", "us-east-1", "--at", ts(now), "--criteria", crit, "--owners", "self,amazon", "--json"},
	} {
		code, out, errs := e.cli(args...)
		t.Logf("%v\ncode %d\n%s---\n%s", args, code, out, errs)
	}
}
