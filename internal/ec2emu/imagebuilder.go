package ec2emu

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// EC2 Image Builder over REST-JSON: GetImage (GET
// /GetImage?imageBuildVersionArn=ARN) and the workflow-step operations
// (imagebuilder_workflow.go) over seeded image build versions
// (seed "image_builder_images") whose output AMIs are emulator images.
// The AMIs' name, description and state are read from the emulator's
// images at each call, so a deregistered output shows as DELETED.

const (
	builderContentType = "application/json"
	// builderARNPrefix starts every image build version ARN.
	builderARNPrefix = "arn:aws:imagebuilder:"
)

// BuilderImage is one seeded Image Builder image build version.
type BuilderImage struct {
	ARN     string `json:"arn"`
	Region  string `json:"region"`
	Account string `json:"account"`
	Name    string `json:"name"`
	// Version is "x.y.z/build", as GetImage shows it.
	Version     string       `json:"version"`
	State       string       `json:"state"`
	StateReason string       `json:"state_reason,omitempty"`
	Platform    string       `json:"platform"`
	DateCreated time.Time    `json:"date_created"`
	AMIs        []BuilderAMI `json:"amis,omitempty"`
	// Steps are the workflow steps that waited for an action
	// (imagebuilder_steps.go).
	Steps []*BuilderStep `json:"steps,omitempty"`
}

// BuilderAMI is one output AMI of a BuilderImage: an emulator image, in the
// region and account it was distributed to.
type BuilderAMI struct {
	ImageID string `json:"image_id"`
	Region  string `json:"region"`
	Account string `json:"account_id"`
}

// SeedBuilderImage is one entry of the seed's "image_builder_images".
type SeedBuilderImage struct {
	// ARN: arn:aws:imagebuilder:REGION:ACCOUNT:image/NAME/X.Y.Z/BUILD
	// (required).
	ARN string `json:"arn"`
	// Name: default the NAME of the ARN.
	Name string `json:"name,omitempty"`
	// Version: default X.Y.Z/BUILD from the ARN.
	Version string `json:"version,omitempty"`
	// State: AVAILABLE (default), PENDING, CREATING, BUILDING, TESTING,
	// DISTRIBUTING, INTEGRATING, CANCELLED, FAILED, DEPRECATED, DELETED or
	// DISABLED.
	State       string `json:"state,omitempty"`
	StateReason string `json:"state_reason,omitempty"`
	// Platform: Linux (default), Windows or macOS.
	Platform string `json:"platform,omitempty"`
	// DateCreated: a seed time; default the emulator's now.
	DateCreated string `json:"date_created,omitempty"`
	// OutputAMIs are the distributed AMIs.
	OutputAMIs []SeedBuilderAMI `json:"output_amis,omitempty"`
	// WaitingSteps are WaitForAction steps of the image's workflows that
	// wait for an action (SendWorkflowStepAction).
	WaitingSteps []SeedWaitingStep `json:"waiting_steps,omitempty"`
}

// SeedBuilderAMI names one output AMI: Image is an image id (an image
// already in the emulator or given an image_id in the same seed) or the
// name of an image in the same seed (Region and AccountID narrow a name
// that several images share). Region and AccountID default to the image's.
type SeedBuilderAMI struct {
	Image     string `json:"image"`
	Region    string `json:"region,omitempty"`
	AccountID string `json:"account_id,omitempty"`
}

var builderStates = map[string]bool{"PENDING": true, "CREATING": true, "BUILDING": true, "TESTING": true, "DISTRIBUTING": true,
	"INTEGRATING": true, "AVAILABLE": true, "CANCELLED": true, "FAILED": true, "DEPRECATED": true, "DELETED": true, "DISABLED": true}

// parseBuilderARN checks arn:aws:imagebuilder:REGION:ACCOUNT:image/NAME/X.Y.Z/BUILD.
func parseBuilderARN(arn string) (region, account, name, version string, ok bool) {
	rest, found := strings.CutPrefix(arn, builderARNPrefix)
	if !found {
		return "", "", "", "", false
	}
	parts := strings.SplitN(rest, ":", 3)
	if len(parts) != 3 || !seedIsRegion(parts[0]) || !seedIsAccount(parts[1]) {
		return "", "", "", "", false
	}
	res := strings.Split(parts[2], "/")
	if len(res) != 4 || res[0] != "image" || !validBuilderName(res[1]) || !validSemver(res[2]) || !allDigits(res[3]) {
		return "", "", "", "", false
	}
	return parts[0], parts[1], res[1], res[2] + "/" + res[3], true
}

func validBuilderName(n string) bool {
	if n == "" || len(n) > 126 {
		return false
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func validSemver(v string) bool {
	parts := strings.Split(v, ".")
	if len(parts) != 3 {
		return false
	}
	for _, p := range parts {
		if !allDigits(p) {
			return false
		}
	}
	return true
}

func allDigits(s string) bool {
	if s == "" || len(s) > 10 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// builderSeed is a checked SeedBuilderImage whose AMIs may still be seed
// names (resolved once the seed's images have ids).
type builderSeed struct {
	img  BuilderImage
	refs []SeedBuilderAMI
}

// buildBuilderImages checks the seed's image build versions. images are the
// seed's images (for name references); known reports whether an image id
// exists in the emulator; taken(arn) reports the step ids the emulator has
// for image build versions other than arn.
func buildBuilderImages(in []SeedBuilderImage, images []SeedImage, known func(id string) bool, taken func(arn string) func(string) bool, now time.Time) ([]builderSeed, error) {
	out := make([]builderSeed, 0, len(in))
	seen := map[string]int{}
	steps := map[string]int{}
	for i, b := range in {
		bs, err := buildBuilderImage(b, images, known, now)
		if err == nil {
			bs.img.Steps, err = buildWaitingSteps(b.WaitingSteps, stepTakenIn(steps, i, taken, b.ARN), now)
		}
		if err != nil {
			return nil, fmt.Errorf("image_builder_images[%d]: %w", i, err)
		}
		if j, dup := seen[b.ARN]; dup {
			return nil, fmt.Errorf("image_builder_images[%d]: arn %s is already image_builder_images[%d]", i, b.ARN, j)
		}
		seen[b.ARN] = i
		out = append(out, bs)
	}
	return out, nil
}

func buildBuilderImage(in SeedBuilderImage, images []SeedImage, known func(string) bool, now time.Time) (builderSeed, error) {
	if in.ARN == "" {
		return builderSeed{}, errors.New("arn is missing: give arn:aws:imagebuilder:REGION:ACCOUNT:image/NAME/X.Y.Z/BUILD")
	}
	region, account, name, version, ok := parseBuilderARN(in.ARN)
	if !ok {
		return builderSeed{}, fmt.Errorf("arn %q is not an image build version ARN: use arn:aws:imagebuilder:REGION:ACCOUNT:image/NAME/X.Y.Z/BUILD (NAME in lowercase letters, digits, - and _)", truncateForMsg(in.ARN))
	}
	img := BuilderImage{ARN: in.ARN, Region: region, Account: account, Name: name, Version: version,
		State: in.State, StateReason: in.StateReason, Platform: in.Platform, DateCreated: now.Truncate(time.Second)}
	if in.Name != "" {
		img.Name = in.Name
	}
	if in.Version != "" {
		img.Version = in.Version
	}
	if img.State == "" {
		img.State = "AVAILABLE"
	}
	if !builderStates[img.State] {
		return builderSeed{}, fmt.Errorf("state %q is not an Image Builder image state such as AVAILABLE, BUILDING or FAILED", truncateForMsg(img.State))
	}
	switch img.Platform {
	case "":
		img.Platform = "Linux"
	case "Linux", "Windows", "macOS":
	default:
		return builderSeed{}, fmt.Errorf("platform %q is not Linux, Windows or macOS", truncateForMsg(img.Platform))
	}
	if in.DateCreated != "" {
		t, err := parseSeedTime("date_created", in.DateCreated)
		if err != nil {
			return builderSeed{}, err
		}
		img.DateCreated = t
	}
	for j, ref := range in.OutputAMIs {
		if err := checkBuilderRef(ref, images, known); err != nil {
			return builderSeed{}, fmt.Errorf("output_amis[%d]: %w", j, err)
		}
	}
	return builderSeed{img: img, refs: in.OutputAMIs}, nil
}

// stepTakenIn reports a step id used by an earlier entry of the seed (and
// records entry i's) or, through taken, by the emulator.
func stepTakenIn(steps map[string]int, i int, taken func(string) func(string) bool, arn string) func(string) bool {
	var inEmulator func(string) bool
	if taken != nil {
		inEmulator = taken(arn)
	}
	return func(id string) bool {
		if j, ok := steps[id]; ok && j != i {
			return true
		}
		steps[id] = i
		return inEmulator != nil && inEmulator(id)
	}
}

// checkBuilderRef checks that ref names exactly one image.
func checkBuilderRef(ref SeedBuilderAMI, images []SeedImage, known func(string) bool) error {
	if ref.Region != "" && !seedIsRegion(ref.Region) {
		return fmt.Errorf("region %q is not a region name such as us-east-1", truncateForMsg(ref.Region))
	}
	if ref.AccountID != "" && !seedIsAccount(ref.AccountID) {
		return fmt.Errorf("account_id %q is not a 12-digit account id", truncateForMsg(ref.AccountID))
	}
	if ref.Image == "" {
		return errors.New(`image is missing: give an AMI id or the name of an image of this seed`)
	}
	if isSeedImageID(ref.Image) {
		if known(ref.Image) {
			return nil
		}
		for _, img := range images {
			if img.ImageID == ref.Image {
				return nil
			}
		}
		return fmt.Errorf("image %s is neither in the emulator nor an image_id of this seed", ref.Image)
	}
	switch n := len(matchBuilderRef(ref, images)); n {
	case 1:
		return nil
	case 0:
		return fmt.Errorf("image %q names no image of this seed (by name, region and account)", truncateForMsg(ref.Image))
	default:
		return fmt.Errorf("image %q names %d images of this seed: give region or account_id, or an image id", truncateForMsg(ref.Image), n)
	}
}

// matchBuilderRef lists the indices of the seed images ref names by name.
func matchBuilderRef(ref SeedBuilderAMI, images []SeedImage) []int {
	var out []int
	for i, img := range images {
		if img.Name == ref.Image && (ref.Region == "" || ref.Region == img.Region) &&
			(ref.AccountID == "" || img.Account == ref.AccountID) {
			out = append(out, i)
		}
	}
	return out
}

// applyBuilderImages resolves the AMI references (ids are the seed images'
// ids, in order) and stores the image build versions. Callers hold s.mu.
func (s *Server) applyBuilderImages(bs []builderSeed, images []SeedImage, ids []string) {
	if len(bs) == 0 {
		return
	}
	if s.st.BuilderImages == nil {
		s.st.BuilderImages = map[string]*BuilderImage{}
	}
	for _, b := range bs {
		img := b.img
		for _, ref := range b.refs {
			id := ref.Image
			if !isSeedImageID(id) {
				id = ids[matchBuilderRef(ref, images)[0]]
			}
			ami := BuilderAMI{ImageID: id, Region: ref.Region, Account: ref.AccountID}
			if e := s.st.Images[id]; e != nil {
				if ami.Region == "" {
					ami.Region = e.Region
				}
				if ami.Account == "" {
					ami.Account = e.Owner
				}
			}
			img.AMIs = append(img.AMIs, ami)
		}
		s.st.BuilderImages[img.ARN] = &img
	}
	s.changed()
}

// serveImageBuilder serves the Image Builder REST-JSON API to caller c.
func (s *Server) serveImageBuilder(w http.ResponseWriter, r *http.Request, c caller) {
	reqID := newRequestID()
	fail := func(e *jsonError) { writeJSONError(w, builderContentType, reqID, e) }
	op := strings.TrimPrefix(r.URL.Path, "/")
	s.recordCall(op, c.region)
	if aerr := s.injectFault(r.Context(), op, c.region); aerr != nil {
		fail(builderFault(aerr))
		return
	}
	h, ok := builderOps[op]
	if !ok {
		fail(&jsonError{Status: http.StatusNotFound, Code: "UnknownOperationException",
			Message: "The emulator serves only GetImage, SendWorkflowStepAction, GetWorkflowStepExecution and ListWaitingWorkflowSteps of Image Builder, not " + r.Method + " " + strconv.Quote(truncateForMsg(r.URL.Path)) + "."})
		return
	}
	if r.Method != h.method {
		fail(&jsonError{Status: http.StatusMethodNotAllowed, Code: "InvalidRequestException", Message: op + " is " + h.method + " /" + op + ", not " + r.Method + "."})
		return
	}
	var body []byte
	if h.method != http.MethodGet {
		var err error
		if body, err = io.ReadAll(http.MaxBytesReader(w, r.Body, maxBuilderBody)); err != nil {
			fail(errBuilderRequest("The request body could not be read: %v", err))
			return
		}
	}
	s.mu.Lock()
	out, jerr := h.do(s, c, r.URL.Query(), body)
	s.mu.Unlock()
	if jerr != nil {
		fail(jerr)
		return
	}
	out["requestId"] = reqID
	writeJSON(w, builderContentType, reqID, out)
}

// builderOp is one Image Builder operation: its HTTP method and handler
// (called with s.mu held).
type builderOp struct {
	method string
	do     func(s *Server, c caller, q url.Values, body []byte) (map[string]any, *jsonError)
}

var builderOps = map[string]builderOp{
	"GetImage": {http.MethodGet, func(s *Server, c caller, q url.Values, _ []byte) (map[string]any, *jsonError) {
		return s.builderGetImage(c, q.Get("imageBuildVersionArn"))
	}},
	"SendWorkflowStepAction":   {http.MethodPut, (*Server).builderSendStepAction},
	"GetWorkflowStepExecution": {http.MethodGet, (*Server).builderGetStep},
	"ListWaitingWorkflowSteps": {http.MethodPost, (*Server).builderListWaiting},
}

// builderFault gives an injected fault Image Builder's codes and statuses.
func builderFault(e *apiError) *jsonError {
	switch e.Code {
	case "RequestLimitExceeded":
		return &jsonError{Status: http.StatusTooManyRequests, Code: "CallRateLimitExceededException", Message: "You have exceeded the permitted request rate for the specific operation."}
	case "Unavailable":
		return &jsonError{Status: http.StatusServiceUnavailable, Code: "ServiceUnavailableException", Message: e.Message}
	case "InternalError":
		return &jsonError{Status: http.StatusInternalServerError, Code: "ServiceException", Message: e.Message}
	}
	return &jsonError{Status: e.Status, Code: e.Code, Message: e.Message}
}

func errBuilderParam(format string, args ...any) *jsonError {
	return &jsonError{Status: http.StatusBadRequest, Code: "InvalidParameterException", Message: fmt.Sprintf(format, args...)}
}

// builderGetImage answers GetImage. An image build version is visible to its
// own account in its own region only (Image Builder resources are regional
// and not shared here). Callers hold s.mu.
func (s *Server) builderGetImage(c caller, arn string) (map[string]any, *jsonError) {
	if arn == "" {
		return nil, errBuilderParam("The value supplied for parameter 'imageBuildVersionArn' is not valid: it is required.")
	}
	if _, _, _, _, ok := parseBuilderARN(arn); !ok {
		return nil, errBuilderParam("The value supplied for parameter 'imageBuildVersionArn' is not valid. %s is not an image build version ARN (arn:aws:imagebuilder:REGION:ACCOUNT:image/NAME/X.Y.Z/BUILD).", truncateForMsg(arn))
	}
	img := s.st.BuilderImages[arn]
	if img == nil || img.Account != c.account || img.Region != c.region {
		return nil, &jsonError{Status: http.StatusNotFound, Code: "ResourceNotFoundException",
			Message: "The resource " + truncateForMsg(arn) + " does not exist in account " + c.account + " in " + truncateForMsg(c.region) + "."}
	}
	amis := make([]map[string]any, 0, len(img.AMIs))
	for _, a := range img.AMIs {
		ami := map[string]any{"region": a.Region, "image": a.ImageID, "accountId": a.Account}
		status := "DELETED"
		if e := s.st.Images[a.ImageID]; e != nil {
			ami["name"] = e.Name
			if e.Description != "" {
				ami["description"] = e.Description
			}
			status = builderAMIStatus(e.State)
		}
		ami["state"] = map[string]string{"status": status}
		amis = append(amis, ami)
	}
	state := map[string]string{"status": img.State}
	if img.StateReason != "" {
		state["reason"] = img.StateReason
	}
	return map[string]any{"image": map[string]any{
		"arn":             img.ARN,
		"name":            img.Name,
		"version":         img.Version,
		"type":            "AMI",
		"platform":        img.Platform,
		"buildType":       "USER_INITIATED",
		"imageSource":     "CUSTOM",
		"state":           state,
		"dateCreated":     img.DateCreated.UTC().Format("2006-01-02T15:04:05.000Z"),
		"outputResources": map[string]any{"amis": amis},
	}}, nil
}

// builderAMIStatus maps an EC2 image state to Image Builder's AMI status.
func builderAMIStatus(ec2State string) string {
	switch ec2State {
	case "available":
		return "AVAILABLE"
	case "pending", "transient":
		return "PENDING"
	case "deregistered":
		return "DELETED"
	case "disabled":
		return "DISABLED"
	default:
		return "FAILED"
	}
}
