package acctest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/testkit"
)

// howToRun is the skip message: what these tests are and how to run them.
const howToRun = "acceptance test against real AWS, skipped: run `make testacc` (it sets PACKER_ACC=1) " +
	"with AWS credentials (AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY) and AWS_REGION set; " +
	"optionally AMIWATERMARK_ACC_SECOND_REGION. It registers and then deregisters a few AMIs; " +
	"see acctest/doc.go for what it creates and the IAM permissions it needs"

const (
	// tagKey marks every resource the tests create; its value is the run id.
	tagKey = "amiwatermark-acc"
	// tagCreated holds the creation time (RFC 3339) for the sweeper.
	tagCreated = "amiwatermark-acc-created"
	// sweepAge is the age after which a tagged leftover of an earlier,
	// killed run is removed at the start of a run.
	sweepAge = 6 * time.Hour
	// commandTimeout bounds one packer command.
	commandTimeout = 30 * time.Minute
)

// suite is the state shared by the acceptance tests of one run.
type suite struct {
	root     string
	packer   *testkit.Packer
	tmp      string
	endpoint string // AMIWATERMARK_ACC_EC2_ENDPOINT, "" for AWS
	region   string
	second   string // "" when no second region is configured
	runID    string
	cfg      aws.Config

	mu        sync.Mutex
	clients   map[string]*ec2.Client
	account   string
	snapshots map[string]string // region -> snapshot the AMIs are registered from
	snapMu    map[string]*sync.Mutex
	leftovers []string // resources that could not be removed
}

var (
	setupOnce sync.Once
	shared    *suite
	skipMsg   string
	setupErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if shared != nil {
		if err := shared.teardown(); err != nil {
			fmt.Fprintf(os.Stderr, "acctest: cleanup: %v\n", err)
			if code == 0 {
				code = 1
			}
		}
	}
	os.Exit(code)
}

// setup returns the shared suite, or skips the test when acceptance tests
// are not enabled or no credentials are available.
func setup(t *testing.T) *suite {
	t.Helper()
	if os.Getenv("PACKER_ACC") != "1" {
		t.Skip(howToRun)
	}
	setupOnce.Do(func() { shared, skipMsg, setupErr = newSuite() })
	if skipMsg != "" {
		t.Skip(skipMsg)
	}
	if setupErr != nil {
		t.Fatalf("acceptance test setup: %v", setupErr)
	}
	return shared
}

func newSuite() (*suite, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	s := &suite{
		endpoint:  os.Getenv("AMIWATERMARK_ACC_EC2_ENDPOINT"),
		second:    os.Getenv("AMIWATERMARK_ACC_SECOND_REGION"),
		clients:   map[string]*ec2.Client{},
		snapshots: map[string]string{},
		snapMu:    map[string]*sync.Mutex{},
	}
	s.region = firstNonEmpty(os.Getenv("AMIWATERMARK_ACC_REGION"), os.Getenv("AWS_REGION"), os.Getenv("AWS_DEFAULT_REGION"))
	opts := []func(*config.LoadOptions) error{}
	if s.region != "" {
		opts = append(opts, config.WithRegion(s.region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Sprintf("PACKER_ACC=1 but the AWS configuration cannot be loaded (%v): fix AWS_PROFILE or the shared config files; %s", err, howToRun), nil
	}
	s.cfg = cfg
	if s.region == "" {
		s.region = cfg.Region
	}
	if s.region == "" {
		return nil, "PACKER_ACC=1 but no AWS region is set: set AWS_REGION (or AMIWATERMARK_ACC_REGION); " + howToRun, nil
	}
	if s.second == s.region {
		s.second = ""
	}
	if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
		return nil, fmt.Sprintf("PACKER_ACC=1 but no AWS credentials were found (%v); %s", err, howToRun), nil
	}

	if s.root, err = testkit.RepoRoot(); err != nil {
		return nil, "", err
	}
	bin, err := findPacker(s.root)
	if err != nil {
		return nil, "", err
	}
	if s.tmp, err = os.MkdirTemp("", "amiwatermark-acc-"); err != nil {
		return nil, "", err
	}
	if s.packer, err = testkit.NewPacker(bin, s.tmp); err != nil {
		return nil, "", err
	}
	// The caller's AWS settings are the point of these tests.
	s.packer.KeepAWSEnv = true
	s.packer.Timeout = commandTimeout
	s.packer.Env = []string{"AWS_REGION=" + s.region}
	plugin := filepath.Join(s.tmp, "build", "packer-plugin-amiwatermark"+testkit.Exe())
	if err := testkit.BuildPlugin(plugin, true); err != nil {
		return nil, "", err
	}
	if err := s.packer.Install(plugin, testkit.PluginSource); err != nil {
		return nil, "", err
	}
	s.runID = newRunID()

	for _, r := range s.regions() {
		s.sweep(ctx, r)
	}
	return s, "", nil
}

func (s *suite) regions() []string {
	if s.second != "" {
		return []string{s.region, s.second}
	}
	return []string{s.region}
}

func firstNonEmpty(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}

// newRunID is a short id, unique per run, usable in AMI and watermark names.
func newRunID() string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return time.Now().UTC().Format("0102-1504") + "-" + hex.EncodeToString(b)
}

// findPacker returns $PACKER_ACC_PACKER, bin/packer-modern (Packer 1.16.0;
// `make testacc` builds it), bin/packer (1.9.4) or packer from PATH.
func findPacker(root string) (string, error) {
	if p := os.Getenv("PACKER_ACC_PACKER"); p != "" {
		return p, nil
	}
	for _, name := range []string{"packer-modern", "packer"} {
		bin := filepath.Join(root, "bin", name+testkit.Exe())
		if _, err := os.Stat(bin); err == nil {
			return bin, nil
		}
	}
	if p, err := exec.LookPath("packer"); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("no packer binary: run `make packer-modern` (builds bin/packer-modern) or set PACKER_ACC_PACKER")
}

// client returns the EC2 client of region.
func (s *suite) client(region string) *ec2.Client {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.clients[region]; ok {
		return c
	}
	c := ec2.NewFromConfig(s.cfg, func(o *ec2.Options) {
		o.Region = region
		if s.endpoint != "" {
			o.BaseEndpoint = aws.String(s.endpoint)
		}
	})
	s.clients[region] = c
	return c
}

// name is a resource or watermark name unique to this run.
func (s *suite) name(label string) string { return "amiwatermark-acc-" + s.runID + "-" + label }

// wm is a watermark name unique to this run.
func (s *suite) wm(label string) string { return "acc-" + s.runID + "-" + label }

// key is this account's key for the watermark name.
func (s *suite) key(name string) string { return s.account + ":" + name }

func (s *suite) tags(resource types.ResourceType, label string) []types.TagSpecification {
	return []types.TagSpecification{{
		ResourceType: resource,
		Tags: []types.Tag{
			{Key: aws.String(tagKey), Value: aws.String(s.runID)},
			{Key: aws.String(tagCreated), Value: aws.String(time.Now().UTC().Format(time.RFC3339))},
			{Key: aws.String("Name"), Value: aws.String(s.name(label))},
		},
	}}
}

// snapshot returns the region's snapshot that test AMIs are registered
// from, creating it on first use: a 1 GiB gp3 volume is created,
// snapshotted and deleted.
func (s *suite) snapshot(t *testing.T, region string) string {
	t.Helper()
	s.mu.Lock()
	m, ok := s.snapMu[region]
	if !ok {
		m = &sync.Mutex{}
		s.snapMu[region] = m
	}
	s.mu.Unlock()
	m.Lock()
	defer m.Unlock()

	s.mu.Lock()
	snap := s.snapshots[region]
	s.mu.Unlock()
	if snap != "" {
		return snap
	}
	if s.endpoint != "" {
		// The emulator has no volumes or snapshots; it takes any id.
		snap = "snap-0a1b2c3d4e5f60718"
	} else {
		snap = s.createSnapshot(t, region)
	}
	s.mu.Lock()
	s.snapshots[region] = snap
	s.mu.Unlock()
	return snap
}

func (s *suite) createSnapshot(t *testing.T, region string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	c := s.client(region)

	azs, err := c.DescribeAvailabilityZones(ctx, &ec2.DescribeAvailabilityZonesInput{
		Filters: []types.Filter{{Name: aws.String("state"), Values: []string{"available"}}, {Name: aws.String("zone-type"), Values: []string{"availability-zone"}}},
	})
	if err != nil || len(azs.AvailabilityZones) == 0 {
		t.Fatalf("%s: DescribeAvailabilityZones found no zone for the test volume: %v", region, err)
	}
	sort.Slice(azs.AvailabilityZones, func(i, j int) bool {
		return aws.ToString(azs.AvailabilityZones[i].ZoneName) < aws.ToString(azs.AvailabilityZones[j].ZoneName)
	})
	vol, err := c.CreateVolume(ctx, &ec2.CreateVolumeInput{
		AvailabilityZone:  azs.AvailabilityZones[0].ZoneName,
		Size:              aws.Int32(1),
		VolumeType:        types.VolumeTypeGp3,
		TagSpecifications: s.tags(types.ResourceTypeVolume, "volume"),
	})
	if err != nil {
		t.Fatalf("%s: CreateVolume (1 GiB gp3, for the test AMIs' snapshot): %v", region, err)
	}
	volID := aws.ToString(vol.VolumeId)
	defer func() {
		// The snapshot keeps the data; the volume is not needed any more.
		dctx, dcancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer dcancel()
		if err := deleteVolume(dctx, c, volID); err != nil {
			s.leftover(fmt.Sprintf("volume %s in %s (%v): aws ec2 delete-volume --region %s --volume-id %s", volID, region, err, region, volID))
		}
	}()
	if err := ec2.NewVolumeAvailableWaiter(c, func(o *ec2.VolumeAvailableWaiterOptions) { o.MinDelay = 2 * time.Second }).
		Wait(ctx, &ec2.DescribeVolumesInput{VolumeIds: []string{volID}}, 10*time.Minute); err != nil {
		t.Fatalf("%s: volume %s did not become available: %v", region, volID, err)
	}
	snap, err := c.CreateSnapshot(ctx, &ec2.CreateSnapshotInput{
		VolumeId:          aws.String(volID),
		Description:       aws.String("amiwatermark acceptance tests " + s.runID),
		TagSpecifications: s.tags(types.ResourceTypeSnapshot, "snapshot"),
	})
	if err != nil {
		t.Fatalf("%s: CreateSnapshot of %s: %v", region, volID, err)
	}
	snapID := aws.ToString(snap.SnapshotId)
	if err := ec2.NewSnapshotCompletedWaiter(c, func(o *ec2.SnapshotCompletedWaiterOptions) { o.MinDelay = 5 * time.Second }).
		Wait(ctx, &ec2.DescribeSnapshotsInput{SnapshotIds: []string{snapID}}, 25*time.Minute); err != nil {
		s.mu.Lock()
		s.snapshots[region] = snapID // so teardown deletes it
		s.mu.Unlock()
		t.Fatalf("%s: snapshot %s did not complete: %v", region, snapID, err)
	}
	return snapID
}

func deleteVolume(ctx context.Context, c *ec2.Client, id string) error {
	var err error
	for i := 0; i < 10; i++ {
		if _, err = c.DeleteVolume(ctx, &ec2.DeleteVolumeInput{VolumeId: aws.String(id)}); err == nil || apiCode(err) == "InvalidVolume.NotFound" {
			return nil
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(10 * time.Second):
		}
	}
	return err
}

// registerAMI registers a private AMI in region from the region's test
// snapshot, waits until it is available and deregisters it when the test
// ends.
func (s *suite) registerAMI(t *testing.T, region, label string) string {
	t.Helper()
	snap := s.snapshot(t, region)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	c := s.client(region)
	out, err := c.RegisterImage(ctx, &ec2.RegisterImageInput{
		Name:               aws.String(s.name(label)),
		Description:        aws.String("amiwatermark acceptance test image; deregistered by the test"),
		Architecture:       types.ArchitectureValuesX8664,
		VirtualizationType: aws.String("hvm"),
		EnaSupport:         aws.Bool(true),
		RootDeviceName:     aws.String("/dev/xvda"),
		BlockDeviceMappings: []types.BlockDeviceMapping{{
			DeviceName: aws.String("/dev/xvda"),
			Ebs: &types.EbsBlockDevice{
				SnapshotId:          aws.String(snap),
				VolumeSize:          aws.Int32(1),
				VolumeType:          types.VolumeTypeGp3,
				DeleteOnTermination: aws.Bool(true),
			},
		}},
		TagSpecifications: s.tags(types.ResourceTypeImage, label),
	})
	if err != nil {
		t.Fatalf("%s: RegisterImage %s: %v", region, s.name(label), err)
	}
	id := aws.ToString(out.ImageId)
	t.Cleanup(func() { s.deregister(t, region, id, false) })
	img := s.waitAvailable(t, region, id)
	s.mu.Lock()
	if s.account == "" {
		s.account = aws.ToString(img.OwnerId)
	}
	s.mu.Unlock()
	t.Logf("registered %s in %s (%s)", id, region, s.name(label))
	return id
}

// copyAMI copies id from region `from` to region `to` with CopyImage, waits
// until the copy is available and deregisters it (and its snapshots) when
// the test ends.
func (s *suite) copyAMI(t *testing.T, from, id, to, label string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := s.client(to).CopyImage(ctx, &ec2.CopyImageInput{
		SourceImageId:     aws.String(id),
		SourceRegion:      aws.String(from),
		Name:              aws.String(s.name(label)),
		TagSpecifications: s.tags(types.ResourceTypeImage, label),
	})
	if err != nil {
		t.Fatalf("CopyImage %s from %s to %s: %v", id, from, to, err)
	}
	cp := aws.ToString(out.ImageId)
	t.Cleanup(func() { s.deregister(t, to, cp, true) })
	s.waitAvailable(t, to, cp)
	t.Logf("copied %s (%s) to %s in %s", id, from, cp, to)
	return cp
}

func (s *suite) waitAvailable(t *testing.T, region, id string) types.Image {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Minute)
	defer cancel()
	w := ec2.NewImageAvailableWaiter(s.client(region), func(o *ec2.ImageAvailableWaiterOptions) {
		o.MinDelay = 2 * time.Second
		o.MaxDelay = 30 * time.Second
	})
	out, err := w.WaitForOutput(ctx, &ec2.DescribeImagesInput{ImageIds: []string{id}}, 55*time.Minute)
	if err != nil {
		t.Fatalf("%s: AMI %s did not become available: %v", region, id, err)
	}
	if len(out.Images) != 1 {
		t.Fatalf("%s: DescribeImages %s returned %d images", region, id, len(out.Images))
	}
	return out.Images[0]
}

// deregister removes an AMI (with its snapshots when it owns them, as copies
// do); failures are recorded as leftovers, never ignored.
func (s *suite) deregister(t *testing.T, region, id string, withSnapshots bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	in := &ec2.DeregisterImageInput{ImageId: aws.String(id)}
	if withSnapshots {
		in.DeleteAssociatedSnapshots = aws.Bool(true)
	}
	_, err := s.client(region).DeregisterImage(ctx, in)
	if err != nil && !strings.HasPrefix(apiCode(err), "InvalidAMIID.") {
		t.Errorf("cleanup: DeregisterImage %s in %s: %v", id, region, err)
		s.leftover(fmt.Sprintf("AMI %s in %s: aws ec2 deregister-image --region %s --image-id %s", id, region, region, id))
		return
	}
	t.Logf("cleanup: deregistered %s in %s", id, region)
}

func (s *suite) leftover(msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.leftovers = append(s.leftovers, msg)
}

// teardown deletes the snapshots (every AMI using them has been deregistered
// by its test's cleanup) and reports what could not be removed.
func (s *suite) teardown() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if s.endpoint == "" {
		for region, snap := range s.snapshots {
			c := s.client(region)
			var err error
			for i := 0; i < 6; i++ {
				// A just-deregistered AMI may hold the snapshot for a moment.
				if _, err = c.DeleteSnapshot(ctx, &ec2.DeleteSnapshotInput{SnapshotId: aws.String(snap)}); err == nil || apiCode(err) == "InvalidSnapshot.NotFound" {
					err = nil
					break
				}
				time.Sleep(10 * time.Second)
			}
			if err != nil {
				s.leftover(fmt.Sprintf("snapshot %s in %s (%v): aws ec2 delete-snapshot --region %s --snapshot-id %s", snap, region, err, region, snap))
			} else {
				fmt.Fprintf(os.Stderr, "acctest: cleanup: deleted snapshot %s in %s\n", snap, region)
			}
		}
	}
	if s.tmp != "" {
		os.RemoveAll(s.tmp)
	}
	if len(s.leftovers) > 0 {
		return fmt.Errorf("these test resources could not be removed; remove them by hand:\n  %s", strings.Join(s.leftovers, "\n  "))
	}
	return nil
}

// sweep removes tagged leftovers of earlier runs that were killed before
// their cleanup ran (older than sweepAge, so a concurrent run is safe).
func (s *suite) sweep(ctx context.Context, region string) {
	c := s.client(region)
	cutoff := time.Now().Add(-sweepAge)
	old := func(tags []types.Tag) bool {
		for _, tg := range tags {
			if aws.ToString(tg.Key) == tagCreated {
				t, err := time.Parse(time.RFC3339, aws.ToString(tg.Value))
				return err == nil && t.Before(cutoff)
			}
		}
		return false
	}
	tagFilter := []types.Filter{{Name: aws.String("tag-key"), Values: []string{tagKey}}}
	imgs, err := c.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"self"}, Filters: tagFilter})
	if err == nil {
		for _, img := range imgs.Images {
			if old(img.Tags) {
				_, derr := c.DeregisterImage(ctx, &ec2.DeregisterImageInput{ImageId: img.ImageId})
				fmt.Fprintf(os.Stderr, "acctest: sweep: deregistered leftover AMI %s in %s (err=%v)\n", aws.ToString(img.ImageId), region, derr)
			}
		}
	}
	if s.endpoint != "" {
		return
	}
	snaps, err := c.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"}, Filters: tagFilter})
	if err == nil {
		for _, sn := range snaps.Snapshots {
			if old(sn.Tags) {
				_, derr := c.DeleteSnapshot(ctx, &ec2.DeleteSnapshotInput{SnapshotId: sn.SnapshotId})
				fmt.Fprintf(os.Stderr, "acctest: sweep: deleted leftover snapshot %s in %s (err=%v)\n", aws.ToString(sn.SnapshotId), region, derr)
			}
		}
	}
	vols, err := c.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{Filters: tagFilter})
	if err == nil {
		for _, v := range vols.Volumes {
			if old(v.Tags) {
				_, derr := c.DeleteVolume(ctx, &ec2.DeleteVolumeInput{VolumeId: v.VolumeId})
				fmt.Fprintf(os.Stderr, "acctest: sweep: deleted leftover volume %s in %s (err=%v)\n", aws.ToString(v.VolumeId), region, derr)
			}
		}
	}
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// attach attaches watermark names to an AMI with the SDK (test set-up).
func (s *suite) attach(t *testing.T, region, id string, names ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, n := range names {
		if _, err := s.client(region).AttachImageWatermark(ctx, &ec2.AttachImageWatermarkInput{
			ImageId: aws.String(id), WatermarkName: aws.String(n),
		}); err != nil {
			t.Fatalf("set-up: AttachImageWatermark %q to %s in %s: %v", n, id, region, err)
		}
	}
}

// image describes one AMI.
func (s *suite) image(t *testing.T, region, id string) types.Image {
	t.Helper()
	return testkit.DescribeImage(t, s.client(region), id)
}

// watermarks returns an AMI's watermarks by key.
func (s *suite) watermarks(t *testing.T, region, id string) map[string]types.ImageWatermark {
	t.Helper()
	img := s.image(t, region, id)
	m := map[string]types.ImageWatermark{}
	for _, w := range img.ImageWatermarks {
		m[aws.ToString(w.WatermarkKey)] = w
	}
	return m
}

// run is one packer invocation's result.
type run struct {
	out  string
	err  error
	dir  string
	args []string
}

func (r run) ok(t *testing.T) run {
	t.Helper()
	if r.err != nil {
		t.Fatalf("packer %s failed: %v\n%s", strings.Join(r.args, " "), r.err, r.out)
	}
	return r
}

func (r run) fails(t *testing.T) run {
	t.Helper()
	if r.err == nil {
		t.Fatalf("packer %s succeeded, want a failure:\n%s", strings.Join(r.args, " "), r.out)
	}
	return r
}

func (r run) contains(t *testing.T, subs ...string) {
	t.Helper()
	for _, sub := range subs {
		if !strings.Contains(r.out, sub) {
			t.Errorf("packer %s output does not contain %q:\n%s", strings.Join(r.args, " "), sub, r.out)
		}
	}
}

// manifest reads the custom_data of the last build in the manifest file the
// template wrote.
func (r run) manifest(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(r.dir, "manifest.json"))
	if err != nil {
		t.Fatalf("reading the manifest of packer %s: %v\n%s", strings.Join(r.args, " "), err, r.out)
	}
	var m struct {
		Builds []struct {
			CustomData map[string]string `json:"custom_data"`
		} `json:"builds"`
	}
	if err := json.Unmarshal(b, &m); err != nil || len(m.Builds) == 0 {
		t.Fatalf("manifest %s: %v (%d builds)", b, err, len(m.Builds))
	}
	return m.Builds[len(m.Builds)-1].CustomData
}

// packerRun runs `packer <cmd> -var-file=<vars> <template>` in a fresh
// directory, the template being e2e/testdata/<template>: the acceptance
// tests run the e2e templates, with variables for the region, the names
// and the credentials (empty: the SDK's default chain).
func (s *suite) packerRun(t *testing.T, cmd, template string, vars map[string]any) run {
	t.Helper()
	dir := t.TempDir()
	vars["endpoint"] = s.endpoint
	vars["access_key"] = ""
	vars["secret_key"] = ""
	vars["max_retries"] = 10
	b, err := json.MarshalIndent(vars, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	varFile := filepath.Join(dir, "acc.pkrvars.json")
	if err := os.WriteFile(varFile, b, 0o644); err != nil {
		t.Fatal(err)
	}
	tpl := filepath.Join(s.root, "e2e", "testdata", template)
	args := []string{cmd, "-var-file=" + varFile, tpl}
	r := s.packer.Run(t, dir, nil, args...)
	var rerr error
	if r.Code != 0 {
		rerr = fmt.Errorf("exit status %d", r.Code)
	}
	return run{out: r.Output(), err: rerr, dir: dir, args: args}
}
