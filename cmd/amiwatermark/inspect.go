package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/watermark"
)

const inspectUsage = `Usage: amiwatermark inspect [--region R] [--json] [--at TIME] [REGION:]AMI...

Shows, for each AMI, its owner, age, state, allowed status and every
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
	Lineage string `json:"lineage"`
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
	for _, w := range img.Watermarks {
		r.Watermarks = append(r.Watermarks, watermarkReport{
			Key: w.Key, Account: w.Account(), Name: w.Name(),
			SourceImageID: w.SourceImageID, SourceImageRegion: w.SourceImageRegion,
			SourceImageCreationTime: w.SourceImageCreationTime.UTC(), WatermarkCreationTime: w.WatermarkCreationTime.UTC(),
			AgeSeconds: int64(at.Sub(w.WatermarkCreationTime) / time.Second),
			Lineage:    lineageOf(img, w),
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

	out := inspectOutput{At: at, Images: []imageReport{}, Errors: []refError{}}
	for _, ref := range refs {
		if e, bad := errs[ref]; bad {
			out.Errors = append(out.Errors, refError{Region: ref.Region, ImageID: ref.ID, Error: e.msg})
			continue
		}
		out.Images = append(out.Images, newImageReport(found[ref], at))
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
