package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/watermark"
)

const inspectUsage = `Usage: amiwatermark inspect [--region R] [--json] [--at TIME] [REGION:]AMI...

Shows, for each AMI, its owner, age, state, allowed status, its Amazon
Inspector scan results, its ancestry as EC2 records it (GetImageAncestry:
the AMI, the AMI it was made from, and so on to the root) and every
watermark with its lineage:
  attached here  the watermark was attached to this AMI
  copied         this AMI is a direct CopyImage of the AMI it was attached to
  derived        inherited otherwise, e.g. through CreateImage from an instance
The allowed status is DescribeImages' imageAllowed for the calling account:
"allowed", "not allowed", or "unknown (Allowed AMIs disabled)".

AMIs: ami-ID (in --region), REGION:ami-ID, or a Packer artifact id such as
us-east-1:ami-1,eu-west-1:ami-2. Exit 0 when every AMI was found, 1 otherwise,
2 on a usage error.
`

// inspectOutput is the --json document. Its field names are stable (see
// docs/cli.md).
type inspectOutput struct {
	// At is the time ages are measured against.
	At     time.Time     `json:"at"`
	Images []imageReport `json:"images"`
	// Errors lists the AMIs that could not be inspected.
	Errors []refError `json:"errors"`
}

type refError struct {
	Region  string `json:"region"`
	ImageID string `json:"image_id"`
	Error   string `json:"error"`
}

type imageReport struct {
	Region            string     `json:"region"`
	ImageID           string     `json:"image_id"`
	Name              string     `json:"name"`
	OwnerID           string     `json:"owner_id"`
	OwnerAlias        string     `json:"owner_alias,omitempty"`
	State             string     `json:"state"`
	Public            bool       `json:"public"`
	CreationDate      *time.Time `json:"creation_date"`
	AgeSeconds        *int64     `json:"age_seconds"`
	DeprecationTime   *time.Time `json:"deprecation_time,omitempty"`
	SourceImageID     string     `json:"source_image_id,omitempty"`
	SourceImageRegion string     `json:"source_image_region,omitempty"`
	SourceInstanceID  string     `json:"source_instance_id,omitempty"`
	// Allowed is imageAllowed; null when unknown (AllowedKnown false).
	Allowed      *bool  `json:"allowed"`
	AllowedKnown bool   `json:"allowed_known"`
	AllowedText  string `json:"allowed_status"`
	// Watermarks is never null; [] when the image has none.
	Watermarks []watermarkReport `json:"watermarks"`
	// ScanResults are Inspector's results; null when never scanned.
	ScanResults *scanReport `json:"scan_results"`
	// Ancestry is GetImageAncestry's chain, this AMI first; null when the
	// call failed (AncestryError says why).
	Ancestry      []ancestryReport `json:"ancestry"`
	AncestryError string           `json:"ancestry_error,omitempty"`
}

type scanReport struct {
	FindingScanDate        time.Time `json:"finding_scan_date"`
	HighestFindingSeverity string    `json:"highest_finding_severity,omitempty"`
	// FixAvailableSince maps a severity to the earliest time a fix for a
	// finding of that severity was available.
	FixAvailableSince map[string]time.Time `json:"fix_available_since"`
}

type ancestryReport struct {
	ImageID           string     `json:"image_id"`
	CreationDate      *time.Time `json:"creation_date"`
	OwnerAlias        string     `json:"owner_alias,omitempty"`
	SourceImageID     string     `json:"source_image_id,omitempty"`
	SourceImageRegion string     `json:"source_image_region,omitempty"`
}

type watermarkReport struct {
	Key                     string    `json:"key"`
	Account                 string    `json:"account"`
	Name                    string    `json:"name"`
	SourceImageID           string    `json:"source_image_id"`
	SourceImageRegion       string    `json:"source_image_region"`
	SourceImageCreationTime time.Time `json:"source_image_creation_time"`
	WatermarkCreationTime   time.Time `json:"watermark_creation_time"`
	// AgeSeconds is At - WatermarkCreationTime.
	AgeSeconds int64 `json:"age_seconds"`
	// Lineage is attached, copied or derived.
	Lineage watermark.Origin `json:"lineage"`
}

func newImageReport(img watermark.Image, at time.Time) imageReport {
	r := imageReport{
		Region: img.Region, ImageID: img.ID, Name: img.Name, OwnerID: img.OwnerID, OwnerAlias: img.OwnerAlias,
		State: img.State, Public: img.Public,
		SourceImageID: img.SourceImageID, SourceImageRegion: img.SourceImageRegion, SourceInstanceID: img.SourceInstanceID,
		Allowed: img.Allowed, AllowedKnown: img.Allowed != nil, AllowedText: allowedText(img.Allowed),
		Watermarks: []watermarkReport{},
	}
	if !img.CreationDate.IsZero() {
		t := img.CreationDate
		age := int64(at.Sub(t) / time.Second)
		r.CreationDate, r.AgeSeconds = &t, &age
	}
	if !img.DeprecationTime.IsZero() {
		t := img.DeprecationTime
		r.DeprecationTime = &t
	}
	if sr := img.ScanResults; sr.Scanned() {
		r.ScanResults = &scanReport{FindingScanDate: sr.FindingScanDate.UTC(), HighestFindingSeverity: string(sr.HighestFindingSeverity),
			FixAvailableSince: map[string]time.Time{}}
		for _, sev := range watermark.Severities {
			if t := sr.FixAvailableSince(sev); !t.IsZero() {
				r.ScanResults.FixAvailableSince[string(sev)] = t.UTC()
			}
		}
	}
	for _, w := range img.Watermarks {
		r.Watermarks = append(r.Watermarks, watermarkReport{
			Key: w.Key, Account: w.Account(), Name: w.Name(),
			SourceImageID: w.SourceImageID, SourceImageRegion: w.SourceImageRegion,
			SourceImageCreationTime: w.SourceImageCreationTime.UTC(), WatermarkCreationTime: w.WatermarkCreationTime.UTC(),
			AgeSeconds: int64(at.Sub(w.WatermarkCreationTime) / time.Second),
			Lineage:    watermark.OriginOf(img, w),
		})
	}
	return r
}

func runInspect(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("inspect", inspectUsage, stderr)
	var (
		af     accessFlags
		asJSON bool
		atFlag string
		sf     scopeFlags
	)
	af.register(fs)
	sf.register(fs)
	fs.BoolVar(&asJSON, "json", false, "print a JSON document instead of the table (field names: docs/cli.md)")
	fs.StringVar(&atFlag, "at", "", "measure ages at this time instead of now: RFC 3339, a date, or +30d / -1d")
	pos, code, ok := parseCommandLine(fs, args, stdout, stderr)
	if !ok {
		return code
	}
	sf.visit(fs)
	at, err := parseAt(atFlag, time.Now().UTC())
	if err != nil {
		return report(stderr, "inspect", usagef("%v", err))
	}
	ac, err := af.accessConfig(fs)
	if err != nil {
		return report(stderr, "inspect", err)
	}
	if sf.active() {
		refs, err := scopedRefs(pos)
		if err != nil {
			return report(stderr, "inspect", err)
		}
		return startScoped(ctx, &sf, asJSON, ac, inspectScopeCommand(refs, at), stdout, stderr)
	}
	sess, err := newSession(ctx, ac)
	if err != nil {
		return report(stderr, "inspect", err)
	}
	refs, err := parseAMIArgs(pos, sess.defaultRegion())
	if err != nil {
		return report(stderr, "inspect", err)
	}
	found, errs := describeRefs(ctx, sess, refs)
	at = sess.at(atFlag, at)

	out := inspectOutput{At: at, Images: []imageReport{}, Errors: []refError{}}
	for _, ref := range refs {
		if e, bad := errs[ref]; bad {
			out.Errors = append(out.Errors, refError{Region: ref.Region, ImageID: ref.ID, Error: e.msg})
			continue
		}
		r := newImageReport(found[ref], at)
		r.Ancestry, r.AncestryError = imageAncestry(ctx, sess, ref)
		out.Images = append(out.Images, r)
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			return report(stderr, "inspect", err)
		}
	} else {
		printInspect(stdout, out)
	}
	for _, e := range out.Errors {
		fmt.Fprintf(stderr, "amiwatermark inspect: %s %s: %s\n", e.Region, e.ImageID, e.Error)
	}
	if len(out.Errors) > 0 {
		return exitFail
	}
	return exitOK
}

// describeRefs describes every AMI, one region after the other. It returns
// the images found and, for every AMI that could not be described, why.
func describeRefs(ctx context.Context, sess *session, refs []amiRef) (map[amiRef]watermark.Image, map[amiRef]refProblem) {
	found := map[amiRef]watermark.Image{}
	errs := map[amiRef]refProblem{}
	for _, region := range regionsOf(refs) {
		var ids []string
		for _, r := range refs {
			if r.Region == region {
				ids = append(ids, r.ID)
			}
		}
		c, err := sess.client(region)
		var imgs map[string]watermark.Image
		if err == nil {
			imgs, err = describeByID(ctx, c, region, ids)
		}
		for _, id := range ids {
			ref := amiRef{Region: region, ID: id}
			switch img, ok := imgs[id]; {
			case err != nil:
				errs[ref] = refProblem{"describe", err.Error()}
			case !ok:
				errs[ref] = refProblem{"exists", notFoundText(region)}
			default:
				found[ref] = img
			}
		}
	}
	return found, errs
}

// refProblem is why an AMI could not be described: requirement is
// "exists" (not found) or "describe" (the call failed).
type refProblem struct{ requirement, msg string }

func notFoundText(region string) string {
	return "not found in " + region + ": it does not exist, is not shared with this account, or is hidden by the account's Allowed AMIs setting; check the id and the region"
}

func printInspect(w io.Writer, out inspectOutput) {
	for i, r := range out.Images {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "%s %s  %s\n", r.Region, r.ImageID, quoteName(r.Name))
		owner := r.OwnerID
		if r.OwnerAlias != "" {
			owner += " (" + r.OwnerAlias + ")"
		}
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "  owner\t%s\n", owner)
		created := "-"
		if r.CreationDate != nil {
			created = fmt.Sprintf("%s (%s old)", formatTime(*r.CreationDate), formatAge(time.Duration(*r.AgeSeconds)*time.Second))
		}
		fmt.Fprintf(tw, "  created\t%s\n", created)
		state := r.State
		if r.Public {
			state += ", public"
		}
		if r.DeprecationTime != nil {
			if r.DeprecationTime.After(out.At) {
				state += ", deprecates " + formatTime(*r.DeprecationTime)
			} else {
				state += ", deprecated " + formatTime(*r.DeprecationTime)
			}
		}
		fmt.Fprintf(tw, "  state\t%s\n", state)
		fmt.Fprintf(tw, "  allowed\t%s\n", r.AllowedText)
		fmt.Fprintf(tw, "  scan\t%s\n", scanResultsText(scanResultsOf(r.ScanResults), out.At))
		if r.SourceImageID != "" || r.SourceInstanceID != "" {
			src := ""
			if r.SourceImageID != "" {
				src = "image " + orDefault(r.SourceImageRegion, r.Region) + "/" + r.SourceImageID
			}
			if r.SourceInstanceID != "" {
				src = strings.TrimSpace(src + " via instance " + r.SourceInstanceID)
			}
			fmt.Fprintf(tw, "  built from\t%s\n", src)
		}
		tw.Flush()
		fmt.Fprintf(w, "  ancestry: %s\n", ancestryText(r))
		if len(r.Watermarks) == 0 {
			fmt.Fprintln(w, "  watermarks: none")
			continue
		}
		fmt.Fprintf(w, "  watermarks (%d):\n", len(r.Watermarks))
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "    KEY\tLINEAGE\tSOURCE IMAGE\tSOURCE CREATED\tWATERMARKED\tAGE")
		for _, wm := range r.Watermarks {
			fmt.Fprintf(tw, "    %s\t%s\t%s/%s\t%s\t%s\t%s\n", wm.Key, lineageText(wm.Lineage),
				orDefault(wm.SourceImageRegion, "-"), orDefault(wm.SourceImageID, "-"),
				formatTime(wm.SourceImageCreationTime), formatTime(wm.WatermarkCreationTime),
				formatAge(time.Duration(wm.AgeSeconds)*time.Second))
		}
		tw.Flush()
	}
}

// quoteName quotes an image name for one output line.
func quoteName(s string) string {
	return fmt.Sprintf("%q", s)
}

// imageAncestry asks EC2 for the AMI's ancestry (GetImageAncestry). A
// failure does not fail inspect: it is reported in place of the chain.
func imageAncestry(ctx context.Context, sess *session, ref amiRef) ([]ancestryReport, string) {
	c, err := sess.client(ref.Region)
	if err != nil {
		return nil, err.Error()
	}
	out, err := c.GetImageAncestry(ctx, &ec2.GetImageAncestryInput{ImageId: aws.String(ref.ID)})
	if err != nil {
		return nil, "GetImageAncestry failed: " + errorText(err)
	}
	list := make([]ancestryReport, 0, len(out.ImageAncestryEntries))
	for _, e := range out.ImageAncestryEntries {
		a := ancestryReport{ImageID: aws.ToString(e.ImageId), OwnerAlias: aws.ToString(e.ImageOwnerAlias),
			SourceImageID: aws.ToString(e.SourceImageId), SourceImageRegion: aws.ToString(e.SourceImageRegion)}
		if e.CreationDate != nil {
			t := e.CreationDate.UTC()
			a.CreationDate = &t
		}
		list = append(list, a)
	}
	return list, ""
}

// ancestryText renders the chain as "ami-this <- us-east-1/ami-parent <-
// ...", the region shown where it changes.
func ancestryText(r imageReport) string {
	if r.AncestryError != "" {
		return "unknown: " + r.AncestryError
	}
	if len(r.Ancestry) == 0 {
		return "-"
	}
	parts := []string{}
	region := r.Region
	for i, a := range r.Ancestry {
		p := a.ImageID
		if i > 0 && region != "" {
			p = region + "/" + p
		}
		if a.OwnerAlias != "" {
			p += " (" + a.OwnerAlias + ")"
		}
		parts = append(parts, p)
		region = orDefault(a.SourceImageRegion, region)
	}
	last := r.Ancestry[len(r.Ancestry)-1]
	if last.SourceImageID != "" {
		parts = append(parts, region+"/"+last.SourceImageID+" (not visible)")
	}
	return strings.Join(parts, " <- ")
}

// scanResultsOf turns the report back into the domain's scan results.
func scanResultsOf(r *scanReport) *watermark.ScanResults {
	if r == nil {
		return nil
	}
	sr := &watermark.ScanResults{FindingScanDate: r.FindingScanDate, HighestFindingSeverity: watermark.Severity(r.HighestFindingSeverity)}
	for sev, t := range r.FixAvailableSince {
		switch watermark.Severity(sev) {
		case watermark.SeverityCritical:
			sr.CriticalFixAvailableSince = t
		case watermark.SeverityHigh:
			sr.HighFixAvailableSince = t
		case watermark.SeverityMedium:
			sr.MediumFixAvailableSince = t
		case watermark.SeverityLow:
			sr.LowFixAvailableSince = t
		case watermark.SeverityInformational:
			sr.InformationalFixAvailableSince = t
		}
	}
	return sr
}
