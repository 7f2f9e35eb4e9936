package ec2emu

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// SeedImage is one image for bulk seeding (POST /_emu/images, the program's
// --seed file, (*Server).SeedImages). Only Region and Name are required.
//
// Times (CreationDate, DeprecationTime, the watermark times) are strings in
// RFC3339 (2026-06-24T03:15:42Z, 2026-06-24T03:15:42.123456+00:00), AWS's
// creationDate form (2026-06-24T03:15:42.000Z), or a plain date (2026-06-24,
// midnight UTC).
type SeedImage struct {
	Region string `json:"region"`
	// Account owns the image; default: the server's default account.
	Account string `json:"account,omitempty"`
	Name    string `json:"name"`
	// ImageID: ami- plus 8 or 17 lowercase hex digits; default: generated.
	ImageID string `json:"image_id,omitempty"`
	// CreationDate: default the emulator's now (to the millisecond).
	CreationDate string `json:"creation_date,omitempty"`
	Description  string `json:"description,omitempty"`
	// State: pending, available (default), invalid, deregistered, transient,
	// failed, error or disabled. A pending image becomes available after
	// PendingDescribes describes or AvailableAfter, whichever is set; with
	// neither it stays pending (for wait-timeout tests).
	State string `json:"state,omitempty"`
	// AvailableAfter (a duration such as "2s") applies to pending images.
	AvailableAfter string `json:"available_after,omitempty"`
	// Watermarks, at most 5, in order; see SeedWatermark.
	Watermarks []SeedWatermark   `json:"watermarks,omitempty"`
	Tags       map[string]string `json:"tags,omitempty"`
	// Public images cannot carry watermarks (EC2 refuses both orders).
	Public     bool     `json:"public,omitempty"`
	SharedWith []string `json:"shared_with,omitempty"`
	// OwnerAlias: amazon, aws-marketplace or aws-backup-vault.
	OwnerAlias        string   `json:"owner_alias,omitempty"`
	DeprecationTime   string   `json:"deprecation_time,omitempty"`
	SourceImageID     string   `json:"source_image_id,omitempty"`
	SourceImageRegion string   `json:"source_image_region,omitempty"`
	SourceInstanceID  string   `json:"source_instance_id,omitempty"`
	ProductCodes      []string `json:"product_codes,omitempty"`
	// Architecture: i386, x86_64 (default), arm64, x86_64_mac or arm64_mac.
	Architecture string `json:"architecture,omitempty"`
	// Platform: empty (Linux/UNIX) or windows.
	Platform string `json:"platform,omitempty"`
	// PendingDescribes: DescribeImages calls that see a pending image still
	// pending.
	PendingDescribes int `json:"pending_describes,omitempty"`
	// NotFoundDescribes: DescribeImages calls naming the image by id that
	// answer InvalidAMIID.NotFound first (eventual consistency).
	NotFoundDescribes int `json:"not_found_describes,omitempty"`
	// ScanResults: Amazon Inspector's scan results (see SeedScanResults);
	// absent: the image was never scanned.
	ScanResults *SeedScanResults `json:"scan_results,omitempty"`
}

// SeedWatermark is one watermark of a SeedImage. In JSON it is either a
// string or an object:
//
//   - "golden": the owner attached "golden" to this image now: key
//     OWNER:golden, source = this image, watermark_creation_time = now;
//   - "111122223333:golden": the same with that key (as if inherited from
//     another account but with this image as the source);
//   - {"key", "source_image_id", "source_image_region",
//     "source_image_creation_time", "watermark_creation_time"}: every field
//     but key is optional. Defaults: the source is this image (its id, region
//     and creation date); watermark_creation_time is now. When
//     source_image_id names another image (seeded earlier or in the same
//     batch) source_image_creation_time defaults to that image's creation
//     date. A key without "account:" gets the owner's account.
type SeedWatermark struct {
	Key                     string `json:"key"`
	SourceImageID           string `json:"source_image_id,omitempty"`
	SourceImageRegion       string `json:"source_image_region,omitempty"`
	SourceImageCreationTime string `json:"source_image_creation_time,omitempty"`
	WatermarkCreationTime   string `json:"watermark_creation_time,omitempty"`
}

type seedWatermarkJSON SeedWatermark

// UnmarshalJSON accepts the string form ("name" or "account:name") and the
// object form.
func (w *SeedWatermark) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) >= 2 && b[0] == '"' && bytes.IndexByte(b, '\\') < 0 {
		// Fast path (bulk seeds): the decoder has checked the syntax, and
		// a string without escapes is its bytes between the quotes.
		*w = SeedWatermark{Key: string(b[1 : len(b)-1])}
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var k string
		if err := json.Unmarshal(b, &k); err != nil {
			return err
		}
		*w = SeedWatermark{Key: k}
		return nil
	}
	if len(b) == 0 || b[0] != '{' {
		return errors.New(`a watermark must be a string ("golden" or "111122223333:golden") or an object {"key": ...}`)
	}
	var v seedWatermarkJSON
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		return err
	}
	*w = SeedWatermark(v)
	return nil
}

// MarshalJSON writes the string form when only Key is set.
func (w SeedWatermark) MarshalJSON() ([]byte, error) {
	if w.SourceImageID == "" && w.SourceImageRegion == "" && w.SourceImageCreationTime == "" && w.WatermarkCreationTime == "" {
		return json.Marshal(w.Key)
	}
	return json.Marshal(seedWatermarkJSON(w))
}

var (
	imageStates = map[string]bool{"pending": true, "available": true, "invalid": true, "deregistered": true,
		"transient": true, "failed": true, "error": true, "disabled": true}
	architectures = map[string]bool{"i386": true, "x86_64": true, "arm64": true, "x86_64_mac": true, "arm64_mac": true}
	ownerAliases  = map[string]bool{"amazon": true, "aws-marketplace": true, "aws-backup-vault": true}
)

// isSeedImageID reports whether s is ami- plus 8 or 17 lowercase hex digits.
func isSeedImageID(s string) bool {
	if !strings.HasPrefix(s, "ami-") {
		return false
	}
	h := s[4:]
	if len(h) != 8 && len(h) != 17 {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

func parseSeedTime(field, v string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t.UTC(), nil
	}
	for _, layout := range []string{"2006-01-02T15:04:05.999999999", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%s %q is not a time: use RFC3339 (2026-06-24T03:15:42Z), AWS's form (2026-06-24T03:15:42.000Z) or a date (2026-06-24)", field, v)
}

// seedMemo remembers the last parsed creation date: bulk seeds often repeat it.
type seedMemo struct {
	creationIn string
	creation   time.Time
}

// seedIsAccount reports whether s is 12 ASCII digits.
func seedIsAccount(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// seedIsRegion reports whether s looks like a region name:
// ^[a-z]{2}(-[a-z]+)+-[0-9]+$ (us-east-1, us-gov-west-1, ap-southeast-2).
func seedIsRegion(s string) bool {
	if len(s) < 6 || s[2] != '-' || !seedIsLower(s[0]) || !seedIsLower(s[1]) {
		return false
	}
	rest := s[3:]
	i := strings.LastIndexByte(rest, '-')
	if i <= 0 || i == len(rest)-1 {
		return false
	}
	for j := i + 1; j < len(rest); j++ {
		if rest[j] < '0' || rest[j] > '9' {
			return false
		}
	}
	letters := rest[:i]
	if letters[len(letters)-1] == '-' {
		return false
	}
	for j := 0; j < len(letters); j++ {
		c := letters[j]
		if c == '-' {
			if j == 0 || letters[j-1] == '-' {
				return false
			}
			continue
		}
		if !seedIsLower(c) {
			return false
		}
	}
	return true
}

func seedIsLower(c byte) bool { return c >= 'a' && c <= 'z' }

// seedFix records what SeedImages must fill in once ids are known.
type seedFix struct {
	img int // index in the batch
	wm  int // index in the image's watermarks
	// srcTime: the source image creation time must be looked up from
	// SourceImageID (another image).
	srcTime bool
}

// seedEntryError names the entry (index, name) of a bad seed.
func seedEntryError(i int, in *SeedImage, format string, args ...any) error {
	who := fmt.Sprintf("images[%d]", i)
	if in.Name != "" {
		who += fmt.Sprintf(" (name %q)", truncateForMsg(in.Name))
	}
	return fmt.Errorf("%s: %s", who, fmt.Sprintf(format, args...))
}

// seedBuilder converts the entries of one seed batch. It holds what every
// entry shares: the emulator's clock and default account at the start of the
// batch, and the last creation date parsed.
type seedBuilder struct {
	now        time.Time
	defAccount string
	memo       seedMemo
}

// build converts and checks entry i into an image (without its id) and the
// watermark fields SeedImages fills in once ids are known. Watermarks whose
// source is this image get SourceImageID "" until then.
func (b *seedBuilder) build(i int, in *SeedImage) (Image, []seedFix, error) {
	img, err := b.image(in)
	if err == nil {
		err = checkSeedLists(in)
	}
	if err != nil {
		return Image{}, nil, seedEntryError(i, in, "%v", err)
	}
	if len(in.Watermarks) == 0 {
		return img, nil, nil
	}
	var fixes []seedFix
	img.Watermarks, fixes, err = seedWatermarks(i, in, img.Owner, img.CreationDate, b.now)
	if err != nil {
		return Image{}, nil, seedEntryError(i, in, "%v", err)
	}
	return img, fixes, nil
}

// image checks the image's own fields and returns the image they describe.
func (b *seedBuilder) image(in *SeedImage) (Image, error) {
	acct, err := seedOwner(in, b.defAccount)
	if err != nil {
		return Image{}, err
	}
	created, err := b.creationDate(in)
	if err != nil {
		return Image{}, err
	}
	life, err := seedLifecycle(in, b.now)
	if err != nil {
		return Image{}, err
	}
	arch, platformDetails, err := seedPlatform(in)
	if err != nil {
		return Image{}, err
	}
	scan, err := seedScanResults(in.ScanResults)
	if err != nil {
		return Image{}, err
	}
	img := Image{
		Region:             in.Region,
		Owner:              acct,
		OwnerAlias:         in.OwnerAlias,
		Name:               in.Name,
		Description:        in.Description,
		State:              life.state,
		CreationDate:       created,
		DeprecationTime:    life.deprecation,
		Public:             in.Public,
		SourceImageID:      in.SourceImageID,
		SourceImageRegion:  in.SourceImageRegion,
		SourceInstanceID:   in.SourceInstanceID,
		Architecture:       arch,
		ImageType:          "machine",
		Platform:           in.Platform,
		PlatformDetails:    platformDetails,
		RootDeviceType:     "ebs",
		RootDeviceName:     "/dev/xvda",
		VirtualizationType: "hvm",
		Hypervisor:         "xen",
		EnaSupport:         true,
		AvailableAt:        life.availableAt,
		PendingDescribes:   in.PendingDescribes,
		NotFoundDescribes:  in.NotFoundDescribes,
		DeregisteredAt:     life.deregisteredAt,
		ScanResults:        scan,
	}
	if len(in.SharedWith) > 0 {
		img.SharedWith = append([]string(nil), in.SharedWith...)
	}
	if len(in.ProductCodes) > 0 {
		img.ProductCodes = append([]string(nil), in.ProductCodes...)
	}
	if len(in.Tags) > 0 {
		img.Tags = make(map[string]string, len(in.Tags))
		for k, v := range in.Tags {
			img.Tags[k] = v
		}
	}
	return img, nil
}

// seedOwner checks region, account, name and image id, and returns the
// owning account.
func seedOwner(in *SeedImage, defAccount string) (string, error) {
	if in.Region == "" {
		return "", errors.New(`region is missing: give a region such as "us-east-1"`)
	}
	if !seedIsRegion(in.Region) {
		return "", fmt.Errorf("region %q is not a region name such as us-east-1", truncateForMsg(in.Region))
	}
	acct := in.Account
	if acct == "" {
		acct = defAccount
	}
	if !seedIsAccount(acct) {
		return "", fmt.Errorf("account %q is not a 12-digit account id", truncateForMsg(acct))
	}
	if in.Name == "" {
		return "", errors.New(`name is missing: every image needs a name`)
	}
	if len(in.Name) > 128 {
		return "", fmt.Errorf("name is %d characters long: an AMI name has at most 128", len(in.Name))
	}
	if in.ImageID != "" && !isSeedImageID(in.ImageID) {
		return "", fmt.Errorf(`image_id %q is malformed: use "ami-" and 17 (or 8) lowercase hex digits, or leave it out to have one generated`, truncateForMsg(in.ImageID))
	}
	return acct, nil
}

// creationDate is the entry's creation date: now (to the millisecond) by
// default.
func (b *seedBuilder) creationDate(in *SeedImage) (time.Time, error) {
	if in.CreationDate == "" {
		return b.now.Truncate(time.Millisecond), nil
	}
	if in.CreationDate == b.memo.creationIn {
		return b.memo.creation, nil
	}
	t, err := parseSeedTime("creation_date", in.CreationDate)
	if err != nil {
		return time.Time{}, err
	}
	b.memo.creationIn, b.memo.creation = in.CreationDate, t
	return t, nil
}

// seedLife is the state-related part of a seeded image.
type seedLife struct {
	state          string
	availableAt    time.Time
	deprecation    *time.Time
	deregisteredAt *time.Time
}

// seedLifecycle checks state, available_after, pending_describes,
// not_found_describes and deprecation_time.
func seedLifecycle(in *SeedImage, now time.Time) (seedLife, error) {
	life := seedLife{state: in.State}
	if life.state == "" {
		life.state = "available"
	}
	if !imageStates[life.state] {
		return life, fmt.Errorf("state %q is not an image state: use pending, available, invalid, deregistered, transient, failed, error or disabled", truncateForMsg(in.State))
	}
	if in.PendingDescribes < 0 {
		return life, fmt.Errorf("pending_describes %d is negative", in.PendingDescribes)
	}
	if in.NotFoundDescribes < 0 {
		return life, fmt.Errorf("not_found_describes %d is negative", in.NotFoundDescribes)
	}
	if in.AvailableAfter != "" {
		d, err := time.ParseDuration(in.AvailableAfter)
		if err != nil || d < 0 {
			return life, fmt.Errorf(`available_after %q is not a non-negative duration such as "2s"`, truncateForMsg(in.AvailableAfter))
		}
		if life.state != "pending" {
			return life, fmt.Errorf(`available_after is set but state is %q: it applies only to "pending" images`, life.state)
		}
		life.availableAt = now.Add(d)
	}
	if in.PendingDescribes > 0 && life.state != "pending" {
		return life, fmt.Errorf(`pending_describes is set but state is %q: it applies only to "pending" images`, life.state)
	}
	if in.DeprecationTime != "" {
		t, err := parseSeedTime("deprecation_time", in.DeprecationTime)
		if err != nil {
			return life, err
		}
		life.deprecation = &t
	}
	if life.state == "deregistered" {
		t := now
		life.deregisteredAt = &t
	}
	return life, nil
}

// seedPlatform checks owner_alias, architecture and platform, and returns
// the architecture and the platform details.
func seedPlatform(in *SeedImage) (arch, platformDetails string, err error) {
	if in.OwnerAlias != "" && !ownerAliases[in.OwnerAlias] {
		return "", "", fmt.Errorf("owner_alias %q is not one of amazon, aws-marketplace, aws-backup-vault", truncateForMsg(in.OwnerAlias))
	}
	arch = in.Architecture
	if arch == "" {
		arch = "x86_64"
	}
	if !architectures[arch] {
		return "", "", fmt.Errorf("architecture %q is not one of i386, x86_64, arm64, x86_64_mac, arm64_mac", truncateForMsg(arch))
	}
	switch in.Platform {
	case "":
		return arch, "Linux/UNIX", nil
	case "windows":
		return arch, "Windows", nil
	}
	return "", "", fmt.Errorf(`platform %q is not valid: leave it out (Linux/UNIX) or use "windows"`, truncateForMsg(in.Platform))
}

// checkSeedLists checks tags, shared_with, product_codes, the source
// fields and the number of watermarks.
func checkSeedLists(in *SeedImage) error {
	if len(in.Tags) > 50 {
		return fmt.Errorf("has %d tags: EC2 allows at most 50 per resource", len(in.Tags))
	}
	for k, v := range in.Tags {
		if k == "" || len(k) > 128 {
			return fmt.Errorf("tags: key %q must be 1-128 characters", truncateForMsg(k))
		}
		if len(v) > 256 {
			return fmt.Errorf("tags[%q]: the value is %d characters; at most 256", truncateForMsg(k), len(v))
		}
	}
	for j, a := range in.SharedWith {
		if !seedIsAccount(a) {
			return fmt.Errorf("shared_with[%d] %q is not a 12-digit account id", j, truncateForMsg(a))
		}
	}
	for j, p := range in.ProductCodes {
		if p == "" {
			return fmt.Errorf("product_codes[%d] is empty", j)
		}
	}
	if in.SourceImageID != "" && !isSeedImageID(in.SourceImageID) {
		return fmt.Errorf("source_image_id %q is not an AMI id (ami- and 17 hex digits)", truncateForMsg(in.SourceImageID))
	}
	if in.SourceImageRegion != "" && !seedIsRegion(in.SourceImageRegion) {
		return fmt.Errorf("source_image_region %q is not a region name such as us-east-1", truncateForMsg(in.SourceImageRegion))
	}
	if in.SourceInstanceID != "" && !isInstanceID(in.SourceInstanceID) {
		return fmt.Errorf("source_instance_id %q is not an instance id (i- and 17 hex digits)", truncateForMsg(in.SourceInstanceID))
	}
	if len(in.Watermarks) > maxWatermarks {
		return fmt.Errorf("has %d watermarks: an image carries at most %d", len(in.Watermarks), maxWatermarks)
	}
	if in.Public && len(in.Watermarks) > 0 {
		return errors.New("is public and has watermarks: EC2 refuses watermarks on public images; drop \"public\" or the watermarks")
	}
	return nil
}

// seedWatermarks converts the watermarks of entry i (owned by acct, created
// at created) and returns the fields SeedImages must fill in later.
func seedWatermarks(i int, in *SeedImage, acct string, created, now time.Time) ([]Watermark, []seedFix, error) {
	wms := make([]Watermark, len(in.Watermarks))
	var fixes []seedFix
	wmNow := now.Truncate(time.Microsecond)
	for j := range in.Watermarks {
		sw := &in.Watermarks[j]
		if sw.Key == "" {
			return nil, nil, fmt.Errorf(`watermarks[%d]: the key is empty: give "name", "account:name" or {"key": ...}`, j)
		}
		w, srcTime, err := seedWatermark(sw, in, acct, wms[:j], created, wmNow)
		if err != nil {
			return nil, nil, fmt.Errorf("watermarks[%d] (key %q): %w", j, truncateForMsg(sw.Key), err)
		}
		wms[j] = w
		if w.SourceImageID == "" || srcTime {
			fixes = append(fixes, seedFix{img: i, wm: j, srcTime: srcTime})
		}
	}
	return wms, fixes, nil
}

// seedWatermark converts one watermark of an image owned by acct, after
// the image's watermarks before it. srcTime reports that its source image
// creation time must be looked up from another image.
func seedWatermark(sw *SeedWatermark, in *SeedImage, acct string, before []Watermark, created, wmNow time.Time) (w Watermark, srcTime bool, err error) {
	key, err := seedWatermarkKey(sw.Key, acct)
	if err != nil {
		return w, false, err
	}
	for _, b := range before {
		if b.Key == key {
			return w, false, fmt.Errorf("the key %s appears twice on this image; an image carries a key once", key)
		}
	}
	w = Watermark{Key: key, SourceImageRegion: in.Region, SourceImageCreationTime: created, WatermarkCreationTime: wmNow}
	if sw.SourceImageID != "" {
		if !isSeedImageID(sw.SourceImageID) {
			return w, false, fmt.Errorf("source_image_id %q is not an AMI id (ami- and 17 hex digits)", truncateForMsg(sw.SourceImageID))
		}
		w.SourceImageID = sw.SourceImageID
		if sw.SourceImageID != in.ImageID {
			srcTime = sw.SourceImageCreationTime == ""
		}
	}
	if sw.SourceImageRegion != "" {
		if !seedIsRegion(sw.SourceImageRegion) {
			return w, false, fmt.Errorf("source_image_region %q is not a region name such as us-east-1", truncateForMsg(sw.SourceImageRegion))
		}
		w.SourceImageRegion = sw.SourceImageRegion
	}
	if sw.SourceImageCreationTime != "" {
		if w.SourceImageCreationTime, err = parseSeedTime("source_image_creation_time", sw.SourceImageCreationTime); err != nil {
			return w, false, err
		}
	}
	if sw.WatermarkCreationTime != "" {
		if w.WatermarkCreationTime, err = parseSeedTime("watermark_creation_time", sw.WatermarkCreationTime); err != nil {
			return w, false, err
		}
	}
	return w, srcTime, nil
}

// seedWatermarkKey turns a seed key ("name" or "account:name") into the key
// EC2 shows (account:name), with the same name rule as AttachImageWatermark.
func seedWatermarkKey(key, acct string) (string, error) {
	a, n, ok := strings.Cut(key, ":")
	if !ok {
		if p := watermarkNameProblem(key); p != "" {
			return "", errors.New(p)
		}
		return acct + ":" + key, nil
	}
	if !seedIsAccount(a) {
		return "", fmt.Errorf("watermark key %q: the account part %q is not a 12-digit account id", truncateForMsg(key), truncateForMsg(a))
	}
	if p := watermarkNameProblem(n); p != "" {
		return "", fmt.Errorf("watermark key %q: %s", truncateForMsg(key), p)
	}
	return key, nil
}

// ParseSeedImages decodes a JSON array of SeedImage (the body of POST
// /_emu/images and the program's --seed file), refusing unknown fields.
// Errors name the entry. It decodes entry by entry into chunks, so a large
// array is copied once rather than regrown.
func ParseSeedImages(b []byte) ([]SeedImage, error) {
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, errors.New(`empty: give a JSON array of images, for example [{"region":"us-east-1","account":"123456789012","name":"app-1","watermarks":["golden"]}]`)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	tok, err := dec.Token()
	if err != nil {
		return nil, ctlJSONError(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return nil, errors.New(`the images must be a JSON array: [{"region":...,"name":...}, ...]`)
	}
	const chunk = 4096
	var (
		chunks [][]SeedImage
		cur    = make([]SeedImage, 0, 64)
		total  int
	)
	for dec.More() {
		if len(cur) == cap(cur) {
			chunks = append(chunks, cur)
			cur = make([]SeedImage, 0, chunk)
		}
		cur = cur[:len(cur)+1]
		if err := dec.Decode(&cur[len(cur)-1]); err != nil {
			return nil, fmt.Errorf("images[%d]: %w", total, ctlJSONError(err))
		}
		total++
	}
	if _, err := dec.Token(); err != nil { // the closing ]
		return nil, ctlJSONError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("invalid JSON: more than one value in the body")
	}
	if len(chunks) == 0 {
		return cur, nil
	}
	out := make([]SeedImage, 0, total)
	for _, c := range chunks {
		out = append(out, c...)
	}
	return append(out, cur...), nil
}

// SeedImages adds images in bulk, all or nothing, and returns their ids in
// order. Errors name the entry (index and name) and the field.
func (s *Server) SeedImages(in []SeedImage) ([]string, error) {
	if len(in) == 0 {
		return []string{}, nil
	}
	s.mu.Lock()
	now := s.now()
	defAccount := s.opts.DefaultAccount
	s.mu.Unlock()

	imgs := make([]Image, len(in))
	var fixes []seedFix
	b := seedBuilder{now: now, defAccount: defAccount}
	explicit := map[string]int{}
	for i := range in {
		img, fx, err := b.build(i, &in[i])
		if err != nil {
			return nil, err
		}
		imgs[i] = img
		fixes = append(fixes, fx...)
		if id := in[i].ImageID; id != "" {
			if j, dup := explicit[id]; dup {
				return nil, seedEntryError(i, &in[i], "image_id %s is already used by images[%d] of this request", id, j)
			}
			explicit[id] = i
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	for id, i := range explicit {
		if _, taken := s.st.Images[id]; taken {
			return nil, seedEntryError(i, &in[i], "image_id %s already exists in the emulator; leave image_id out or reset first", id)
		}
	}
	// Look up the creation time of other source images before anything
	// changes, so an error leaves the state untouched.
	srcTimes := make([]time.Time, len(fixes))
	for k, f := range fixes {
		if !f.srcTime {
			continue
		}
		w := &imgs[f.img].Watermarks[f.wm]
		if src, ok := s.st.Images[w.SourceImageID]; ok {
			srcTimes[k] = src.CreationDate
		} else if j, ok := explicit[w.SourceImageID]; ok {
			srcTimes[k] = imgs[j].CreationDate
		} else {
			return nil, seedEntryError(f.img, &in[f.img], "watermarks[%d] (key %q): source_image_id %s is neither in the emulator nor in this request, so its creation time is unknown: give source_image_creation_time",
				f.wm, w.Key, w.SourceImageID)
		}
	}
	if len(s.st.Images) == 0 {
		s.st.Images = make(map[string]*Image, len(in)) // avoid growing a big map step by step
	}
	ids := make([]string, len(in))
	for i := range imgs {
		id := in[i].ImageID
		if id == "" {
			id = s.newImageID()
		}
		imgs[i].ID = id
		ids[i] = id
		s.st.Images[id] = &imgs[i]
	}
	for k, f := range fixes {
		w := &imgs[f.img].Watermarks[f.wm]
		if w.SourceImageID == "" {
			w.SourceImageID = imgs[f.img].ID
		}
		if f.srcTime {
			w.SourceImageCreationTime = srcTimes[k]
		}
	}
	s.changed()
	return ids, nil
}
