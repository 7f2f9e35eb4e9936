package reliability

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/ec2emu"
	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/ec2emu/emutest"
	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/testkit"
	"github.com/amiwatermark/packer-plugin-amiwatermark/post-processor/amiwatermark"
)

// Credentials of the runs. The emulator acts as the account in the last 12
// digits of the access key id.
const (
	account      = "111122223333"
	otherAccount = "444455556666"
	accessKey    = "AKIDTEST" + account
	secretKey    = "reliability-secret-key-value"
	sessionToken = "reliability-session-token-value"
)

// regions8 and names3 are the shape of the main scenario: 8 regions × 3
// names.
var (
	regions8 = []string{"ap-northeast-1", "ap-southeast-2", "eu-central-1", "eu-west-1", "sa-east-1", "us-east-1", "us-east-2", "us-west-2"}
	names3   = []string{"golden", "approved", "qa-passed"}
)

func key(name string) string { return account + ":" + name }

// report collects the rows of the scenarios; TestMain writes them to the
// file named by RELIABILITY_REPORT (make reliability) and logs them with -v.
var report struct {
	mu   sync.Mutex
	rows []Row
}

func record(r Row) {
	report.mu.Lock()
	report.rows = append(report.rows, r)
	report.mu.Unlock()
}

func TestMain(m *testing.M) {
	// Nothing from the environment may change where the runs go or which
	// credentials they use.
	for _, k := range []string{"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
		"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_EC2", "AWS_RETRY_MODE", "AWS_MAX_ATTEMPTS", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"} {
		os.Unsetenv(k)
	}
	os.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	code := m.Run()
	testkit.RemoveBuilds()
	report.mu.Lock()
	rows := report.rows
	report.mu.Unlock()
	if path := os.Getenv("RELIABILITY_REPORT"); path != "" {
		if err := WriteTable(path, rows); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
	}
	if testing.Verbose() && len(rows) > 0 {
		fmt.Printf("\n%s", FormatTable(rows))
	}
	os.Exit(code)
}

// ---- the emulator, and what went over the wire -------------------------

// world is one in-process emulator behind an HTTP server, with a recorder
// of the API requests it received.
type world struct {
	*emutest.Server
	wire *wire
}

func newWorld(t testing.TB) *world {
	t.Helper()
	wire := &wire{invocations: map[string]int{}}
	return &world{emutest.NewServer(t, emutest.Options{Wrap: wire.wrap}), wire}
}

// wire counts the EC2 API requests and the SDK operations behind them: the
// SDK sends the same Amz-Sdk-Invocation-Id header with every attempt of one
// operation, and Amz-Sdk-Request: attempt=N; max=M.
type wire struct {
	mu          sync.Mutex
	requests    int64
	invocations map[string]int // invocation id -> attempts seen
	maxHeader   map[string]bool
	// auth records what the requests carried, for the credential checks.
	accessKeys map[string]bool
	tokens     map[string]bool
}

func (w *wire) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/_emu/") {
			w.mu.Lock()
			w.requests++
			id := r.Header.Get("Amz-Sdk-Invocation-Id")
			if id == "" {
				id = fmt.Sprintf("no-invocation-id-%d", w.requests)
			}
			w.invocations[id]++
			if w.maxHeader == nil {
				w.maxHeader, w.accessKeys, w.tokens = map[string]bool{}, map[string]bool{}, map[string]bool{}
			}
			if h := r.Header.Get("Amz-Sdk-Request"); h != "" {
				if _, max, ok := strings.Cut(h, "max="); ok {
					w.maxHeader[max] = true
				}
			}
			if a := r.Header.Get("Authorization"); a != "" {
				if _, cred, ok := strings.Cut(a, "Credential="); ok {
					akid, _, _ := strings.Cut(cred, "/")
					w.accessKeys[akid] = true
				}
			}
			w.tokens[r.Header.Get("X-Amz-Security-Token")] = true
			w.mu.Unlock()
		}
		next.ServeHTTP(rw, r)
	})
}

// counts returns the API requests and the distinct SDK operations since the
// last reset.
func (w *wire) counts() (requests, logical int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.requests, int64(len(w.invocations))
}

// attempts returns how many operations took n attempts, per n.
func (w *wire) attempts() map[int]int {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := map[int]int{}
	for _, n := range w.invocations {
		out[n]++
	}
	return out
}

func (w *wire) reset() {
	w.mu.Lock()
	w.requests = 0
	w.invocations = map[string]int{}
	w.maxHeader, w.accessKeys, w.tokens = nil, nil, nil
	w.mu.Unlock()
}

func (w *world) setFaults(t testing.TB, f ec2emu.Faults) {
	t.Helper()
	if err := w.Emulator.SetFaults(f); err != nil {
		t.Fatalf("SetFaults: %v", err)
	}
}

// injected is the number of faults the emulator injected (latency aside).
func injected(st ec2emu.Stats) int64 {
	return st.Faults["throttle"] + st.Faults["error"] + st.Faults["fail"]
}

// ---- asserting EC2 state through the SDK --------------------------------

// client is a plain SDK client of the test account, for assertions (call
// it with the faults cleared).
func client(url, region string) *ec2.Client {
	return emutest.EC2Client(url, region, credentials.NewStaticCredentialsProvider(accessKey, "assertions", ""))
}

// describe returns the image as the test account sees it.
func describe(t testing.TB, url, region, id string) types.Image {
	t.Helper()
	return testkit.DescribeImage(t, client(url, region), id)
}

// keysOf returns the keys of an image in EC2's order.
func keysOf(img types.Image) []string {
	out := make([]string, 0, len(img.ImageWatermarks))
	for _, w := range img.ImageWatermarks {
		out = append(out, aws.ToString(w.WatermarkKey))
	}
	return out
}

func sorted(list []string) []string {
	out := append([]string(nil), list...)
	sort.Strings(out)
	return out
}

// ---- driving the post-processor like Packer ------------------------------

// amiArtifact is what an amazon-ebs build hands its post-processors.
func amiArtifact(targets ...string) *testkit.Artifact {
	return &testkit.Artifact{Builder: testkit.AmazonEBSBuilderID, ID: strings.Join(targets, ",")}
}

// runPP configures a post-processor the way Packer does (a raws map with
// the endpoint and static credentials, plus cfg) and runs PostProcess on in.
// It checks the keep/forceOverride contract and that no credential shows
// in the output or the error.
func runPP(t testing.TB, ctx context.Context, url string, cfg map[string]interface{}, in packersdk.Artifact) (packersdk.Artifact, string, error) {
	t.Helper()
	raws := map[string]interface{}{
		"custom_endpoint_ec2": url,
		"access_key":          accessKey,
		"secret_key":          secretKey,
		"token":               sessionToken,
	}
	for k, v := range cfg {
		raws[k] = v
	}
	p := &amiwatermark.PostProcessor{}
	if err := p.Configure(raws); err != nil {
		t.Fatalf("Configure: %v", err)
	}
	u := &testkit.UI{}
	out, keep, force, err := p.PostProcess(ctx, u, in)
	if !keep || !force {
		t.Errorf("PostProcess returned keep=%v forceOverride=%v, want true/true (Packer would deregister the AMIs)", keep, force)
	}
	text := u.String()
	if err != nil {
		text += "\nerror: " + err.Error()
	}
	for _, s := range []string{accessKey, secretKey, sessionToken} {
		if strings.Contains(text, s) {
			t.Errorf("a credential appears in the output or the error:\n%s", text)
		}
	}
	return out, u.String(), err
}
