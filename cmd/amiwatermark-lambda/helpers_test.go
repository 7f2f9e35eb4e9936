package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/imagebuilder"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/ec2emu"
	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/ec2emu/emutest"
	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/testkit"
)

const (
	buildAcct  = "111122223333"
	distAcct   = "444455556666"
	imageARN   = "arn:aws:imagebuilder:us-east-1:" + buildAcct + ":image/golden-base/1.2.0/3"
	stepID     = "step-0a1b2c3d-0000-4000-8000-00000000000a"
	wfID       = "wf-0a1b2c3d-0000-4000-8000-00000000000a"
	amiEast    = "ami-0aaaaaaaaaaaaaaa1"
	amiWest    = "ami-0bbbbbbbbbbbbbbb2"
	amiDist    = "ami-0ccccccccccccccc3"
	secretKey  = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	accessKey  = "AKIDTEST" + buildAcct
	gateStep   = "AMIWatermarkGate"
	approvedWM = "golden-approved"
)

// lambdaBin is the function built once for the tests.
var lambdaBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "amiwatermark-lambda-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	lambdaBin = filepath.Join(dir, "bootstrap"+testkit.Exe())
	root, err := testkit.RepoRoot()
	if err == nil {
		err = testkit.GoBuild(root, lambdaBin, "./cmd/amiwatermark-lambda")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// seedOpts changes the default seed.
type seedOpts struct {
	eastWatermarks []ec2emu.SeedWatermark
	westWatermarks []ec2emu.SeedWatermark
	distributed    bool // a third output AMI, in distAcct (eu-west-1)
	distFull       bool // the distributed AMI carries 5 watermarks
	refuseRole     bool // distAcct refuses AssumeRole
	state          string
}

// newEmulator starts an emulator with the image golden-base 1.2.0/3: two
// output AMIs of the build account (us-east-1, eu-west-1) and a step
// waiting for an action.
func newEmulator(t *testing.T, o seedOpts) *emutest.Server {
	t.Helper()
	imgs := []ec2emu.SeedImage{
		{Region: "us-east-1", Account: buildAcct, Name: "golden-base 1.2.0", ImageID: amiEast, Watermarks: o.eastWatermarks},
		{Region: "eu-west-1", Account: buildAcct, Name: "golden-base 1.2.0", ImageID: amiWest, Watermarks: o.westWatermarks},
	}
	outs := []ec2emu.SeedBuilderAMI{{Image: amiEast}, {Image: amiWest}}
	if o.distributed {
		dist := ec2emu.SeedImage{Region: "eu-west-1", Account: distAcct, Name: "golden-base 1.2.0", ImageID: amiDist}
		if o.distFull {
			dist.Watermarks = fiveWatermarks()
		}
		imgs = append(imgs, dist)
		outs = append(outs, ec2emu.SeedBuilderAMI{Image: amiDist})
	}
	state := o.state
	if state == "" {
		state = "DISTRIBUTING"
	}
	seed := &ec2emu.Seed{Images: imgs, ImageBuilderImages: []ec2emu.SeedBuilderImage{{ARN: imageARN, State: state, OutputAMIs: outs,
		WaitingSteps: []ec2emu.SeedWaitingStep{{StepExecutionID: stepID, Name: gateStep, WorkflowExecutionID: wfID}}}}}
	if o.refuseRole {
		seed.Accounts = []ec2emu.SeedAccount{{ID: buildAcct}, {ID: distAcct, RefuseAssumeRole: true}}
	}
	return emutest.NewServer(t, emutest.Options{Seed: seed})
}

// runOut is one `amiwatermark-lambda` run.
type runOut struct {
	code   int
	stdout string
	stderr string
	res    result
}

// runLambda runs the built function with --event FILE against the
// emulator, with a clean environment plus env.
func runLambda(t *testing.T, srv *emutest.Server, event string, env ...string) runOut {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, lambdaBin, "--event", filepath.Join("testdata", event))
	cmd.Env = append(baseEnv(t, srv), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := runOut{stdout: stdout.String(), stderr: stderr.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	if r.code != exitUsage {
		if err := json.Unmarshal(stdout.Bytes(), &r.res); err != nil {
			t.Fatalf("stdout is not the JSON result (%v):\n%s\nstderr:\n%s", err, r.stdout, r.stderr)
		}
	}
	for _, s := range []string{r.stdout, r.stderr} {
		if strings.Contains(s, secretKey) {
			t.Fatalf("the secret access key is in the output:\n%s", s)
		}
	}
	return r
}

func baseEnv(t *testing.T, srv *emutest.Server) []string {
	home := t.TempDir()
	return []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + home,
		"AWS_ACCESS_KEY_ID=" + accessKey, "AWS_SECRET_ACCESS_KEY=" + secretKey,
		"AWS_REGION=us-east-1", "AWS_ENDPOINT_URL=" + srv.URL, "AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE=" + filepath.Join(home, "none"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, "none"),
		"AMIWATERMARK_WATERMARKS=" + approvedWM,
	}
}

func (r runOut) want(t *testing.T, code int, outcome string) {
	t.Helper()
	if r.code != code || r.res.Outcome != outcome {
		t.Fatalf("exit %d outcome %q, want %d %q\nstdout:\n%s\nstderr:\n%s", r.code, r.res.Outcome, code, outcome, r.stdout, r.stderr)
	}
}

// stepOf reads the waiting step from the emulator.
func stepOf(t *testing.T, srv *emutest.Server) *imagebuilder.GetWorkflowStepExecutionOutput {
	t.Helper()
	out, err := srv.ImageBuilder("us-east-1", buildAcct).GetWorkflowStepExecution(context.Background(),
		&imagebuilder.GetWorkflowStepExecutionInput{StepExecutionId: aws.String(stepID)})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// keysOf reads the watermark keys of an AMI from the emulator.
func keysOf(t *testing.T, srv *emutest.Server, region, account, id string) []string {
	t.Helper()
	out, err := srv.EC2(region, account).DescribeImages(context.Background(), &ec2.DescribeImagesInput{ImageIds: []string{id}})
	if err != nil || len(out.Images) != 1 {
		t.Fatalf("describing %s: %v", id, err)
	}
	var keys []string
	for _, w := range out.Images[0].ImageWatermarks {
		keys = append(keys, aws.ToString(w.WatermarkKey))
	}
	return keys
}

// calls is the number of calls of action the emulator received.
func calls(srv *emutest.Server, action string) int64 { return srv.Emulator.Stats().Actions[action] }

func fiveWatermarks() []ec2emu.SeedWatermark {
	return []ec2emu.SeedWatermark{{Key: "w1-name"}, {Key: "w2-name"}, {Key: "w3-name"}, {Key: "w4-name"}, {Key: "w5-name"}}
}
