package orgbench

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/testkit"
)

// p4 is benchmark P4's model: 40 accounts × 4 regions, 10 000
// public images per region, 200 own and 100 shared images per account and
// region, each call 150 ms + 1 ms per item, EC2's token buckets on, the
// CLI at its default concurrency (16).
var p4 = Model{Base: 150 * time.Millisecond, PerItem: time.Millisecond, Accounts: 40, Regions: 4,
	Public: 10000, Own: 200, Shared: 100, Concurrency: 16, PageSize: 1000, OrgPageSize: 20}

var p4Regions = []string{"us-east-1", "eu-west-1", "ap-southeast-2", "sa-east-1"}

const (
	publicOwner = "137112412989" // owner alias amazon: allowed by the criteria
	outsider    = "999900000001" // shares images with every member: blocked
	roleName    = "AMIWatermarkAudit"
	criteria    = `[{"ImageProviders":["amazon"]}]`
)

// BenchmarkP4 prints, in one run: wall ÷ floor (goal ≤ 1.15), DescribeImages
// calls ÷ minimum (goal 1.0), the calls and wall per account-region against
// today's per-account full scan on a slice of 4 accounts × 1 region (goal
// ≥ 10× fewer calls), and the CLI's peak RSS at 40 and 120 accounts (goal
// ≤ 150 MB, flat). Unmet goals are printed, not failed; a broken run (an
// error, a failed account-region, wrong totals) fails.
func BenchmarkP4(b *testing.B) {
	e := startBench(b)
	for i := 0; i < b.N; i++ {
		var r report
		r.org = e.orgRun(b, p4.Accounts)
		r.emuRSS = vmHWM(e.emu.Pid())
		r.base = e.baseline(b)
		if n := largeAccounts(b); n > 0 {
			r.large, r.largeN = e.orgRun(b, n), n
		}
		r.print(b)
	}
}

func largeAccounts(b *testing.B) int {
	v := os.Getenv("P4_LARGE_ACCOUNTS")
	if v == "" {
		return 3 * p4.Accounts
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		b.Fatalf("P4_LARGE_ACCOUNTS=%q: give a number of accounts (0: no second run)", v)
	}
	return n
}

// bench is the emulator process and the built CLI.
type bench struct {
	emu      *testkit.Program
	cli, dir string
	crit     string
}

func startBench(b *testing.B) *bench {
	emuBin, err := testkit.BuildEmulator()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(testkit.RemoveBuilds)
	root, err := testkit.RepoRoot()
	if err != nil {
		b.Fatal(err)
	}
	e := &bench{dir: b.TempDir()}
	e.cli = filepath.Join(e.dir, "amiwatermark"+testkit.Exe())
	if err := testkit.GoBuild(root, e.cli, "./cmd/amiwatermark"); err != nil {
		b.Fatal(err)
	}
	e.crit = filepath.Join(e.dir, "criteria.json")
	if err := os.WriteFile(e.crit, []byte(criteria), 0o600); err != nil {
		b.Fatal(err)
	}
	e.emu = testkit.StartT(b, emuBin, "--throttle", "ec2",
		"--latency-base", p4.Base.String(), "--latency-per-item", p4.PerItem.String())
	return e
}

// accountID is member a's id (a = 0 is the management account).
func accountID(a int) string { return fmt.Sprintf("2000%08d", a) }

// seed resets the emulator and seeds an organization of n accounts.
func (e *bench) seed(b *testing.B, n int) {
	testkit.DoJSON(b, "POST", e.emu.URL+"/_emu/reset", nil, nil)
	seed := map[string]any{"organization": map[string]any{"management_account": accountID(0)}}
	var accounts []map[string]any
	for a := range n {
		accounts = append(accounts, map[string]any{"id": accountID(a), "regions": p4Regions})
	}
	seed["accounts"] = accounts
	testkit.DoJSON(b, "POST", e.emu.URL+"/_emu/seed", seed, nil)
	for _, region := range p4Regions {
		var imgs []map[string]any
		for i := range p4.Public {
			imgs = append(imgs, image(region, publicOwner, "public", i, map[string]any{"public": true, "owner_alias": "amazon"}))
		}
		for a := range n {
			for i := range p4.Own {
				imgs = append(imgs, image(region, accountID(a), "own", i, nil))
			}
			for i := range p4.Shared {
				imgs = append(imgs, image(region, outsider, "shared-"+accountID(a), i, map[string]any{"shared_with": []string{accountID(a)}}))
			}
		}
		testkit.DoJSON(b, "POST", e.emu.URL+"/_emu/images", imgs, nil)
	}
}

var seedEpoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func image(region, owner, kind string, i int, extra map[string]any) map[string]any {
	m := map[string]any{"region": region, "account": owner, "name": fmt.Sprintf("%s-%s-%d", kind, region, i),
		"creation_date": seedEpoch.Add(time.Duration(i) * time.Minute).Format(time.RFC3339)}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

// describeCalls reads the emulator's DescribeImages count and resets the
// counters; throttled is the throttle model's 503 answers.
func (e *bench) describeCalls(b *testing.B) (calls, throttled int64) {
	var st struct {
		Actions   map[string]int64 `json:"actions"`
		Throttled int64            `json:"throttled"`
	}
	testkit.DoJSON(b, "POST", e.emu.URL+"/_emu/stats/reset", nil, &st)
	return st.Actions["DescribeImages"], st.Throttled
}

func (e *bench) env(account string) []string {
	empty := filepath.Join(e.dir, "empty")
	_ = os.WriteFile(empty, nil, 0o600)
	return append(os.Environ(), "AWS_ACCESS_KEY_ID=AKIDTEST"+account, "AWS_SECRET_ACCESS_KEY=bench/Secret+Access+Key0123456789abcdefg",
		"AWS_CONFIG_FILE="+empty, "AWS_SHARED_CREDENTIALS_FILE="+empty, "AWS_EC2_METADATA_DISABLED=true",
		"AWS_ENDPOINT_URL_STS="+e.emu.URL, "AWS_ENDPOINT_URL_ORGANIZATIONS="+e.emu.URL, "AWS_REGION=us-east-1")
}
