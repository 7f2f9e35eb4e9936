package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/awsconfig"
	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/watermark"
)

const simulateUsage = `Usage: amiwatermark simulate [--region R] --criteria FILE [--owners self,amazon,...]
           [--in-use] [--compare-current] [--account ID] [--at TIME] [--json] [--progress]

Evaluates proposed Allowed-AMIs criteria (the JSON of aws ec2
replace-image-criteria-in-allowed-images-settings --image-criteria) offline,
without changing the account's settings, against every image the account can
see in the region, and prints each image that would be blocked and why,
then the totals.

"Every image the account can see" is what DescribeImages returns without
Owners: the account's own images, images shared with it, and every public
image in the region (on AWS that is well over 100 000 images, most of them
Amazon's and Marketplace's). Deprecated images are included (they can still
be launched by id); disabled images are not (they cannot be launched).
--owners narrows the scan to those owners (EC2's Owners parameter).

--in-use also lists the AMIs of running and pending instances and says which
would be blocked: the instances keep running, but new launches from those
AMIs (Auto Scaling, replacements) would fail. The AMIs are found with
DescribeInstanceImageMetadata, which describes an instance's AMI even when
it is deregistered or no longer shared; such an AMI is evaluated from that
metadata (watermarks, owner, name, dates; no product codes or scan results)
and reported as not visible: new launches from it fail whatever the criteria.

--compare-current reads the account's current criteria in the region
(GetAllowedImagesSettings) and prints, instead of every blocked image, each
image the proposed criteria change: NEWLY-BLOCKED (allowed now, blocked by
the proposal) and NEWLY-ALLOWED; unchanged images are counted. It also
says who manages the settings: with managedBy declarative-policy the
account cannot replace its criteria (change the policy in AWS Organizations).

The account's own images are never restricted. The account is taken from
--account, else from an image the account owns (DescribeImages
Owners=self), else from a reservation of its instances (--in-use); if none
is found, the account owns no image in the region and no image is exempt.

Exit 0 when the simulation ran (whatever it found), 1 when an AWS call
failed, 2 on a usage error.
`

// progressEvery is how many images pass between two progress lines.
const progressEvery = 1000

type simulateOptions struct {
	// clock and atFlag re-read --at against EC2's clock once an answer has
	// set it (session.at).
	clock        *awsconfig.Clock
	atFlag       string
	criteria     watermark.Criteria
	criteriaFile string
	owners       []string
	inUse        bool
	account      string
	at           time.Time
	asJSON       bool
	progress     bool
	// compare: --compare-current; current is then the live settings.
	compare bool
	current *liveSettings
	// onBlocked and onScanned, when set, take each blocked image and each
	// scanned one instead of the output (the scoped run).
	onBlocked func(blockedImage, watermark.Image) error
	onScanned func(watermark.Image)
	// scans are the DescribeImages reads of the scan, one after the other
	// (an image read twice counts once); nil: one read of every image the
	// account can see (Owners: owners).
	scans []*ec2.DescribeImagesInput
}

// simulateOutput is the --json document (field names: docs/cli.md).
type simulateOutput struct {
	Region        string         `json:"region"`
	Account       string         `json:"account"`
	AccountSource string         `json:"account_source"`
	At            time.Time      `json:"at"`
	CriteriaFile  string         `json:"criteria_file"`
	Owners        []string       `json:"owners"`
	Totals        simulateTotals `json:"totals"`
	Blocked       []blockedImage `json:"blocked"`
	// BlockedByOwner counts blocked images per owner (alias when the
	// image has one, else the account id).
	BlockedByOwner map[string]int `json:"blocked_by_owner"`
	InUse          *inUseReport   `json:"in_use"`
	// Comparison is the --compare-current report; null without it.
	Comparison *comparison `json:"comparison"`
}

// comparison is what the proposal changes against the current criteria.
type comparison struct {
	CurrentState     string         `json:"current_state"`
	ManagedBy        string         `json:"managed_by"`
	NewlyBlocked     []changedImage `json:"newly_blocked"`
	NewlyAllowed     []changedImage `json:"newly_allowed"`
	UnchangedAllowed int            `json:"unchanged_allowed"`
	UnchangedBlocked int            `json:"unchanged_blocked"`
}

type changedImage struct {
	ImageID    string `json:"image_id"`
	OwnerID    string `json:"owner_id"`
	OwnerAlias string `json:"owner_alias,omitempty"`
	Name       string `json:"name"`
	// Reason is the proposal's verdict: why it blocks, or which criterion
	// allows.
	Reason string `json:"reason"`
}

type simulateTotals struct {
	Images  int `json:"images"`
	Allowed int `json:"allowed"`
	Own     int `json:"own"`
	Blocked int `json:"blocked"`
}

type blockedImage struct {
	ImageID      string     `json:"image_id"`
	OwnerID      string     `json:"owner_id"`
	OwnerAlias   string     `json:"owner_alias,omitempty"`
	Name         string     `json:"name"`
	CreationDate *time.Time `json:"creation_date"`
	Reason       string     `json:"reason"`
}

type inUseReport struct {
	AMIs       int          `json:"amis"`
	Instances  int          `json:"instances"`
	Allowed    int          `json:"allowed"`
	Blocked    int          `json:"blocked"`
	NotVisible int          `json:"not_visible"`
	Images     []inUseImage `json:"images"`
}

type inUseImage struct {
	ImageID    string   `json:"image_id"`
	Instances  []string `json:"instances"`
	Status     string   `json:"status"` // allowed, blocked, not visible
	OwnerID    string   `json:"owner_id,omitempty"`
	OwnerAlias string   `json:"owner_alias,omitempty"`
	Name       string   `json:"name,omitempty"`
	Reason     string   `json:"reason"`
}

func runSimulate(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("simulate", simulateUsage, stderr)
	var (
		af                            accessFlags
		owners                        stringList
		criteriaFile, account, atFlag string
		inUse, asJSON, progress       bool
		compare                       bool
		sf                            scopeFlags
	)
	af.register(fs)
	sf.register(fs)
	fs.StringVar(&criteriaFile, "criteria", "", "Allowed-AMIs criteria JSON file to evaluate (required)")
	fs.Var(&owners, "owners", "scan only images of these owners: self, 12-digit ids, amazon, aws-marketplace, aws-backup-vault (default: every image the account can see)")
	fs.BoolVar(&inUse, "in-use", false, "also evaluate the AMIs of the region's running and pending instances (DescribeInstanceImageMetadata)")
	fs.BoolVar(&compare, "compare-current", false, "compare with the account's current criteria (GetAllowedImagesSettings): print the images the proposal newly blocks or newly allows")
	fs.StringVar(&account, "account", "", "the account the criteria are for, whose own images are never restricted (default: found from its images)")
	fs.StringVar(&atFlag, "at", "", "evaluate at this time instead of now: RFC 3339, a date, or +30d (what will be blocked in 30 days)")
	fs.BoolVar(&asJSON, "json", false, "print one JSON document (field names: docs/cli.md)")
	fs.BoolVar(&progress, "progress", false, "print progress to stderr every 1000 images even when stderr is not a terminal")
	pos, code, ok := parseCommandLine(fs, args, stdout, stderr)
	if !ok {
		return code
	}
	sf.visit(fs)
	if len(pos) > 0 {
		return report(stderr, "simulate", usagef("unexpected argument %q: simulate scans every image the account can see; narrow it with --owners", pos[0]))
	}
	o := &simulateOptions{criteriaFile: criteriaFile, owners: owners, inUse: inUse, account: account, asJSON: asJSON, compare: compare}
	if err := o.validate(atFlag); err != nil {
		return report(stderr, "simulate", err)
	}
	o.progress = progress || isTerminal(stderr)
	ac, err := af.accessConfig(fs)
	if err != nil {
		return report(stderr, "simulate", err)
	}
	if sf.active() {
		return startScoped(ctx, &sf, asJSON, ac, simulateScopeCommand(o), stdout, stderr)
	}
	sess, err := newSession(ctx, ac)
	if err != nil {
		return report(stderr, "simulate", err)
	}
	region := sess.defaultRegion()
	if region == "" {
		return report(stderr, "simulate", usagef("no region: give --region or set AWS_REGION"))
	}
	c, err := sess.client(region)
	if err != nil {
		return report(stderr, "simulate", err)
	}
	o.clock, o.atFlag = sess.clock, atFlag
	out, err := simulate(ctx, c, region, o, stdout, stderr)
	if err != nil {
		return report(stderr, "simulate", err)
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			return report(stderr, "simulate", err)
		}
	} else {
		printSimulateTotals(stdout, out)
	}
	return exitOK
}

func (o *simulateOptions) validate(atFlag string) error {
	if o.criteriaFile == "" {
		return usagef("--criteria FILE is required: the Allowed-AMIs criteria to simulate, as JSON (the value of aws ec2 replace-image-criteria-in-allowed-images-settings --image-criteria)")
	}
	var err error
	if o.criteria, err = watermark.ReadCriteriaFile(o.criteriaFile); err != nil {
		return criteriaUsage(o.criteriaFile, err)
	}
	if len(o.owners) > 0 {
		// The owners rule of the data source (watermark.ParseOwners); the
		// list keeps the order given, without duplicates.
		if _, errs := watermark.ParseOwners(o.owners); len(errs) > 0 {
			return usagef("%s", watermark.Render(errs[0], cliNames))
		}
		seen := map[string]bool{}
		var owners []string
		for _, ow := range o.owners {
			if !seen[ow] {
				seen[ow] = true
				owners = append(owners, ow)
			}
		}
		o.owners = owners
	}
	if o.account != "" && !watermark.IsAccountID(o.account) {
		return usagef("--account %q is not a 12-digit account id", o.account)
	}
	if o.at, err = parseAt(atFlag, time.Now().UTC()); err != nil {
		return usagef("%v", err)
	}
	return nil
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func simulate(ctx context.Context, c *ec2.Client, region string, o *simulateOptions, stdout, stderr io.Writer) (*simulateOutput, error) {
	out := &simulateOutput{Region: region, Account: o.account, AccountSource: "flag", At: o.at, CriteriaFile: o.criteriaFile,
		Owners: o.owners, Blocked: []blockedImage{}, BlockedByOwner: map[string]int{}}
	if out.Account == "" {
		acct, err := ownAccount(ctx, c, region)
		if err != nil {
			return nil, err
		}
		out.Account, out.AccountSource = acct, "own-image"
	}
	if o.compare {
		current, err := settingsOf(ctx, c, region)
		if err != nil {
			return nil, err
		}
		o.current = current
		out.Comparison = &comparison{CurrentState: o.current.state, ManagedBy: o.current.managedBy,
			NewlyBlocked: []changedImage{}, NewlyAllowed: []changedImage{}}
	}

	// In use: the AMI of every pending or running instance.
	var (
		inUse     *inUseAMIs
		inUseSeen = map[string]watermark.Image{}
	)
	if o.inUse {
		var err error
		inUse, err = instancesByAMI(ctx, c, region)
		if err != nil {
			return nil, err
		}
		if out.Account == "" && inUse.owner != "" {
			out.Account, out.AccountSource = inUse.owner, "instance"
		}
	}
	if out.Account == "" {
		out.AccountSource = "unknown"
		fmt.Fprintf(stderr, "amiwatermark simulate: the account owns no image in %s (and --account was not given): no image is exempt as the account's own\n", region)
	}
	if o.clock != nil && o.clock.Known() {
		if t, err := parseAt(o.atFlag, o.clock.Now()); err == nil {
			o.at, out.At = t, t
		}
	}
	if !o.asJSON {
		fmt.Fprintf(stdout, "Simulating %s in %s for account %s at %s; scanning %s\n", o.criteriaFile, region,
			orDefault(out.Account, "(unknown)"), formatTime(o.at), scanText(o.owners))
	}

	if err := o.scan(ctx, c, region, out, inUse, inUseSeen, stdout, stderr); err != nil {
		return nil, err
	}

	if o.inUse {
		rep, err := evaluateInUse(ctx, c, region, o, out.Account, inUse, inUseSeen)
		if err != nil {
			return nil, err
		}
		out.InUse = rep
		if !o.asJSON {
			for _, u := range rep.Images {
				switch u.Status {
				case "blocked":
					fmt.Fprintf(stdout, "BLOCKED-IN-USE %s %s owner=%s name=%s instances=%s: %s\n", region, u.ImageID,
						ownerText(watermark.Image{OwnerID: u.OwnerID, OwnerAlias: u.OwnerAlias}), quoteName(u.Name), strings.Join(u.Instances, ","), u.Reason)
				case "not visible":
					fmt.Fprintf(stdout, "UNKNOWN-IN-USE %s %s instances=%s: %s\n", region, u.ImageID, strings.Join(u.Instances, ","), u.Reason)
				}
			}
		}
	}
	return out, nil
}

// scan reads the images of the scan (scanInputs) and evaluates each once.
func (o *simulateOptions) scan(ctx context.Context, c *ec2.Client, region string, out *simulateOutput,
	inUse *inUseAMIs, inUseSeen map[string]watermark.Image, stdout, stderr io.Writer) error {
	seen := map[string]bool{}
	for _, in := range o.scanInputs() {
		p := ec2.NewDescribeImagesPaginator(c, in)
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return describeErr(region, err)
			}
			for i := range page.Images {
				img := awsconfig.Image(&page.Images[i], region)
				if seen[img.ID] { // pages never overlap on EC2; reads may
					continue
				}
				seen[img.ID] = true
				if inUse != nil && inUse.instances[img.ID] != nil {
					inUseSeen[img.ID] = img
				}
				if err := o.scanned(out, img, region, stdout, stderr); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// scanInputs are the reads of the scan (simulateOptions.scans).
func (o *simulateOptions) scanInputs() []*ec2.DescribeImagesInput {
	if o.scans != nil {
		return o.scans
	}
	return []*ec2.DescribeImagesInput{{Owners: o.owners, IncludeDeprecated: aws.Bool(true), MaxResults: aws.Int32(1000)}}
}

// scanned evaluates one image of the scan and counts, reports or keeps it.
func (o *simulateOptions) scanned(out *simulateOutput, img watermark.Image, region string, stdout, stderr io.Writer) error {
	out.Totals.Images++
	if o.onScanned != nil {
		o.onScanned(img)
	}
	v := o.criteria.Evaluate(img, out.Account, o.at)
	if o.compare {
		out.Comparison.add(o, img, v, out.Account, region, stdout)
	}
	switch {
	case v.Allowed && img.OwnerID == out.Account && out.Account != "":
		out.Totals.Allowed++
		out.Totals.Own++
	case v.Allowed:
		out.Totals.Allowed++
	default:
		out.Totals.Blocked++
		out.BlockedByOwner[ownerKey(img)]++
		b := blockedImage{ImageID: img.ID, OwnerID: img.OwnerID, OwnerAlias: img.OwnerAlias, Name: img.Name, Reason: v.Reason}
		if !img.CreationDate.IsZero() {
			t := img.CreationDate
			b.CreationDate = &t
		}
		switch {
		case o.onBlocked != nil:
			if err := o.onBlocked(b, img); err != nil {
				return err
			}
		case o.asJSON:
			out.Blocked = append(out.Blocked, b)
		case !o.compare:
			fmt.Fprintf(stdout, "BLOCKED %s %s owner=%s name=%s: %s\n", region, img.ID, ownerText(img), quoteName(img.Name), v.Reason)
		}
	}
	if o.progress && out.Totals.Images%progressEvery == 0 {
		fmt.Fprintf(stderr, "amiwatermark simulate: %d images scanned, %d blocked so far\n", out.Totals.Images, out.Totals.Blocked)
	}
	return nil
}

func scanText(owners []string) string {
	if len(owners) == 0 {
		return "every image the account can see (own, shared and public)"
	}
	return "images owned by " + strings.Join(owners, ", ")
}

func ownerKey(img watermark.Image) string {
	if img.OwnerAlias != "" {
		return img.OwnerAlias
	}
	return img.OwnerID
}

func ownerText(img watermark.Image) string {
	if img.OwnerAlias != "" {
		return img.OwnerID + "(" + img.OwnerAlias + ")"
	}
	return orDefault(img.OwnerID, "-")
}

// ownAccount finds the caller's account without STS: the owner of any image
// DescribeImages returns for Owners=self. "" when the account owns none.
func ownAccount(ctx context.Context, c *ec2.Client, region string) (string, error) {
	p := ec2.NewDescribeImagesPaginator(c, &ec2.DescribeImagesInput{
		Owners:            []string{"self"},
		IncludeDeprecated: aws.Bool(true),
		IncludeDisabled:   aws.Bool(true),
		MaxResults:        aws.Int32(5),
	})
	for pages := 0; p.HasMorePages() && pages < 20; pages++ {
		page, err := p.NextPage(ctx)
		if err != nil {
			return "", describeErr(region, err)
		}
		for _, im := range page.Images {
			if o := aws.ToString(im.OwnerId); o != "" {
				return o, nil
			}
		}
	}
	return "", nil
}

// inUseAMIs are the AMIs of the region's pending and running instances.
type inUseAMIs struct {
	// instances maps an AMI id to its instances.
	instances map[string][]string
	// meta is each AMI as DescribeInstanceImageMetadata describes it.
	meta map[string]watermark.Image
	// owner is the instances' owner (the caller's account).
	owner string
}

// instancesByAMI lists the region's pending and running instances by AMI
// with DescribeInstanceImageMetadata, which also describes AMIs that are
// deregistered or no longer shared.
func instancesByAMI(ctx context.Context, c *ec2.Client, region string) (*inUseAMIs, error) {
	out := &inUseAMIs{instances: map[string][]string{}, meta: map[string]watermark.Image{}}
	p := ec2.NewDescribeInstanceImageMetadataPaginator(c, &ec2.DescribeInstanceImageMetadataInput{
		Filters:    []types.Filter{{Name: aws.String("instance-state-name"), Values: []string{"pending", "running"}}},
		MaxResults: aws.Int32(1000),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, callErr(err, "describing the AMIs of the instances in %s (DescribeInstanceImageMetadata): %s", region, errorText(err))
		}
		for _, m := range page.InstanceImageMetadata {
			if m.State != nil && m.State.Name != types.InstanceStateNamePending && m.State.Name != types.InstanceStateNameRunning {
				continue // the filter is not trusted
			}
			if out.owner == "" {
				out.owner = aws.ToString(m.OwnerId)
			}
			if m.ImageMetadata == nil || aws.ToString(m.ImageMetadata.ImageId) == "" {
				continue
			}
			ami := aws.ToString(m.ImageMetadata.ImageId)
			out.instances[ami] = append(out.instances[ami], aws.ToString(m.InstanceId))
			out.meta[ami] = awsconfig.ImageFromMetadata(m.ImageMetadata, region)
		}
	}
	return out, nil
}

// evaluateInUse evaluates the in-use AMIs. Those the scan did not return
// are described by id; those still not visible are evaluated from their
// instance metadata.
func evaluateInUse(ctx context.Context, c *ec2.Client, region string, o *simulateOptions, account string,
	inUse *inUseAMIs, seen map[string]watermark.Image) (*inUseReport, error) {
	rep := &inUseReport{Images: []inUseImage{}}
	var missing []string
	for ami := range inUse.instances {
		if _, ok := seen[ami]; !ok {
			missing = append(missing, ami)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		more, err := describeByID(ctx, c, region, missing)
		if err != nil {
			return nil, err
		}
		for id, img := range more {
			seen[id] = img
		}
	}
	amis := make([]string, 0, len(inUse.instances))
	for ami := range inUse.instances {
		amis = append(amis, ami)
	}
	sort.Strings(amis)
	for _, ami := range amis {
		insts := append([]string(nil), inUse.instances[ami]...)
		sort.Strings(insts)
		rep.AMIs++
		rep.Instances += len(insts)
		u := inUseImage{ImageID: ami, Instances: insts}
		img, visible := seen[ami]
		if !visible {
			img = inUse.meta[ami]
		}
		u.OwnerID, u.OwnerAlias, u.Name = img.OwnerID, img.OwnerAlias, img.Name
		v := o.criteria.Evaluate(img, account, o.at)
		switch {
		case !visible:
			u.Status = "not visible"
			verdict := "allow"
			if !v.Allowed {
				verdict = "block"
			}
			u.Reason = "the AMI is not visible to the account (deregistered, no longer shared, or disabled): new launches from it fail whatever the criteria; by its instance metadata the criteria would " + verdict + " it: " + v.Reason
			rep.NotVisible++
		case v.Allowed:
			u.Status, u.Reason = "allowed", v.Reason
			rep.Allowed++
		default:
			u.Status, u.Reason = "blocked", v.Reason
			rep.Blocked++
		}
		rep.Images = append(rep.Images, u)
	}
	return rep, nil
}

// add records how the proposal's verdict v on img compares with the
// current criteria, and prints a changed image (text mode).
func (cmp *comparison) add(o *simulateOptions, img watermark.Image, v watermark.Verdict, account, region string, stdout io.Writer) {
	cur := o.current.criteria.Evaluate(img, account, o.at)
	changed := func() changedImage {
		return changedImage{ImageID: img.ID, OwnerID: img.OwnerID, OwnerAlias: img.OwnerAlias, Name: img.Name, Reason: v.Reason}
	}
	label := ""
	switch {
	case cur.Allowed && !v.Allowed:
		cmp.NewlyBlocked = append(cmp.NewlyBlocked, changed())
		label = "NEWLY-BLOCKED"
	case !cur.Allowed && v.Allowed:
		cmp.NewlyAllowed = append(cmp.NewlyAllowed, changed())
		label = "NEWLY-ALLOWED"
	case v.Allowed:
		cmp.UnchangedAllowed++
	default:
		cmp.UnchangedBlocked++
	}
	if label != "" && !o.asJSON {
		fmt.Fprintf(stdout, "%s %s %s owner=%s name=%s: %s\n", label, region, img.ID, ownerText(img), quoteName(img.Name), v.Reason)
	}
}

func printSimulateTotals(w io.Writer, out *simulateOutput) {
	t := out.Totals
	fmt.Fprintf(w, "Total: %d images: %d allowed (%d own), %d blocked\n", t.Images, t.Allowed, t.Own, t.Blocked)
	if len(out.BlockedByOwner) > 0 {
		type kv struct {
			k string
			n int
		}
		var list []kv
		for k, n := range out.BlockedByOwner {
			list = append(list, kv{k, n})
		}
		sort.Slice(list, func(i, j int) bool {
			if list[i].n != list[j].n {
				return list[i].n > list[j].n
			}
			return list[i].k < list[j].k
		})
		parts := make([]string, len(list))
		for i, e := range list {
			parts[i] = fmt.Sprintf("%s=%d", e.k, e.n)
		}
		fmt.Fprintf(w, "Blocked by owner: %s\n", strings.Join(parts, ", "))
	}
	if cmp := out.Comparison; cmp != nil {
		fmt.Fprintf(w, "Compared with the current criteria (state %s, managed by %s): %d newly blocked, %d newly allowed, %d unchanged (%d allowed, %d blocked)\n",
			orDefault(cmp.CurrentState, "-"), orDefault(cmp.ManagedBy, "-"), len(cmp.NewlyBlocked), len(cmp.NewlyAllowed),
			cmp.UnchangedAllowed+cmp.UnchangedBlocked, cmp.UnchangedAllowed, cmp.UnchangedBlocked)
		if cmp.ManagedBy == "declarative-policy" {
			fmt.Fprintln(w, "The current settings are managed by a declarative policy: the account cannot replace them; change the policy in AWS Organizations (ec2_attributes.allowed_images_settings).")
		}
	}
	if u := out.InUse; u != nil {
		fmt.Fprintf(w, "In use: %d AMIs on %d instances: %d allowed, %d blocked, %d not visible\n", u.AMIs, u.Instances, u.Allowed, u.Blocked, u.NotVisible)
	}
}
