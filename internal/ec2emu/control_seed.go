package ec2emu

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/watermark"
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

// buildSeed converts and checks one SeedImage into img (without its id).
// Watermarks whose source is this image get SourceImageID "" (filled later).
func buildSeed(i int, in *SeedImage, img *Image, now time.Time, defAccount string, fixes *[]seedFix, memo *seedMemo) error {
	bad := func(format string, args ...any) error { return seedEntryError(i, in, format, args...) }
	if in.Region == "" {
		return bad(`region is missing: give a region such as "us-east-1"`)
	}
	if !seedIsRegion(in.Region) {
		return bad("region %q is not a region name such as us-east-1", truncateForMsg(in.Region))
	}
	acct := in.Account
	if acct == "" {
		acct = defAccount
	}
	if !seedIsAccount(acct) {
		return bad("account %q is not a 12-digit account id", truncateForMsg(acct))
	}
	if in.Name == "" {
		return bad(`name is missing: every image needs a name`)
	}
	if len(in.Name) > 128 {
		return bad("name is %d characters long: an AMI name has at most 128", len(in.Name))
	}
	if in.ImageID != "" && !isSeedImageID(in.ImageID) {
		return bad(`image_id %q is malformed: use "ami-" and 17 (or 8) lowercase hex digits, or leave it out to have one generated`, truncateForMsg(in.ImageID))
	}
	created := now.Truncate(time.Millisecond)
	if in.CreationDate != "" {
		if in.CreationDate == memo.creationIn {
			created = memo.creation
		} else {
			t, err := parseSeedTime("creation_date", in.CreationDate)
			if err != nil {
				return bad("%v", err)
			}
			created = t
			memo.creationIn, memo.creation = in.CreationDate, t
		}
	}
	state := in.State
	if state == "" {
		state = "available"
	}
	if !imageStates[state] {
		return bad("state %q is not an image state: use pending, available, invalid, deregistered, transient, failed, error or disabled", truncateForMsg(in.State))
	}
	if in.PendingDescribes < 0 {
		return bad("pending_describes %d is negative", in.PendingDescribes)
	}
	if in.NotFoundDescribes < 0 {
		return bad("not_found_describes %d is negative", in.NotFoundDescribes)
	}
	var availAt time.Time
	if in.AvailableAfter != "" {
		d, err := time.ParseDuration(in.AvailableAfter)
		if err != nil || d < 0 {
			return bad(`available_after %q is not a non-negative duration such as "2s"`, truncateForMsg(in.AvailableAfter))
		}
		if state != "pending" {
			return bad(`available_after is set but state is %q: it applies only to "pending" images`, state)
		}
		availAt = now.Add(d)
	}
	if in.PendingDescribes > 0 && state != "pending" {
		return bad(`pending_describes is set but state is %q: it applies only to "pending" images`, state)
	}
	var deprec *time.Time
	if in.DeprecationTime != "" {
		t, err := parseSeedTime("deprecation_time", in.DeprecationTime)
		if err != nil {
			return bad("%v", err)
		}
		deprec = &t
	}
	if in.OwnerAlias != "" && !ownerAliases[in.OwnerAlias] {
		return bad("owner_alias %q is not one of amazon, aws-marketplace, aws-backup-vault", truncateForMsg(in.OwnerAlias))
	}
	arch := in.Architecture
	if arch == "" {
		arch = "x86_64"
	}
	if !architectures[arch] {
		return bad("architecture %q is not one of i386, x86_64, arm64, x86_64_mac, arm64_mac", truncateForMsg(arch))
	}
	platformDetails := "Linux/UNIX"
	switch in.Platform {
	case "":
	case "windows":
		platformDetails = "Windows"
	default:
		return bad(`platform %q is not valid: leave it out (Linux/UNIX) or use "windows"`, truncateForMsg(in.Platform))
	}
	if len(in.Tags) > 50 {
		return bad("has %d tags: EC2 allows at most 50 per resource", len(in.Tags))
	}
	for k, v := range in.Tags {
		if k == "" || len(k) > 128 {
			return bad("tags: key %q must be 1-128 characters", truncateForMsg(k))
		}
		if len(v) > 256 {
			return bad("tags[%q]: the value is %d characters; at most 256", truncateForMsg(k), len(v))
		}
	}
	for j, a := range in.SharedWith {
		if !seedIsAccount(a) {
			return bad("shared_with[%d] %q is not a 12-digit account id", j, truncateForMsg(a))
		}
	}
	for j, p := range in.ProductCodes {
		if p == "" {
			return bad("product_codes[%d] is empty", j)
		}
	}
	if in.SourceImageID != "" && !isSeedImageID(in.SourceImageID) {
		return bad("source_image_id %q is not an AMI id (ami- and 17 hex digits)", truncateForMsg(in.SourceImageID))
	}
	if in.SourceImageRegion != "" && !seedIsRegion(in.SourceImageRegion) {
		return bad("source_image_region %q is not a region name such as us-east-1", truncateForMsg(in.SourceImageRegion))
	}
	if in.SourceInstanceID != "" && !isInstanceID(in.SourceInstanceID) {
		return bad("source_instance_id %q is not an instance id (i- and 17 hex digits)", truncateForMsg(in.SourceInstanceID))
	}
	if len(in.Watermarks) > watermark.MaxPerImage {
		return bad("has %d watermarks: an image carries at most %d", len(in.Watermarks), watermark.MaxPerImage)
	}
	if in.Public && len(in.Watermarks) > 0 {
		return bad("is public and has watermarks: EC2 refuses watermarks on public images; drop \"public\" or the watermarks")
	}

	*img = Image{
		Region:             in.Region,
		Owner:              acct,
		OwnerAlias:         in.OwnerAlias,
		Name:               in.Name,
		Description:        in.Description,
		State:              state,
		CreationDate:       created,
		DeprecationTime:    deprec,
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
		AvailableAt:        availAt,
		PendingDescribes:   in.PendingDescribes,
		NotFoundDescribes:  in.NotFoundDescribes,
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
	if state == "deregistered" {
		t := now
		img.DeregisteredAt = &t
	}
	if len(in.Watermarks) == 0 {
		return nil
	}
	img.Watermarks = make([]Watermark, len(in.Watermarks))
	wmNow := now.Truncate(time.Microsecond)
	for j := range in.Watermarks {
		sw := &in.Watermarks[j]
		badW := func(format string, args ...any) error {
			return bad("watermarks[%d] (key %q): %s", j, truncateForMsg(sw.Key), fmt.Sprintf(format, args...))
		}
		key := sw.Key
		if key == "" {
			return bad(`watermarks[%d]: the key is empty: give "name", "account:name" or {"key": ...}`, j)
		}
		if strings.Contains(key, ":") {
			a, n, _ := strings.Cut(key, ":")
			if !seedIsAccount(a) || watermark.ValidateName(n) != nil {
				_, err := watermark.ParseKey(key) // the detailed message
				if err == nil {
					err = fmt.Errorf("watermark key %q is not ACCOUNT:NAME", key)
				}
				return badW("%v", err)
			}
		} else {
			if err := watermark.ValidateName(key); err != nil {
				return badW("%v", err)
			}
			key = acct + ":" + key
		}
		for k := 0; k < j; k++ {
			if img.Watermarks[k].Key == key {
				return badW("the key %s appears twice on this image; an image carries a key once", key)
			}
		}
		w := Watermark{Key: key, SourceImageRegion: in.Region, SourceImageCreationTime: created, WatermarkCreationTime: wmNow}
		fix := seedFix{img: i, wm: j}
		if sw.SourceImageID != "" {
			if !isSeedImageID(sw.SourceImageID) {
				return badW("source_image_id %q is not an AMI id (ami- and 17 hex digits)", truncateForMsg(sw.SourceImageID))
			}
			w.SourceImageID = sw.SourceImageID
			if sw.SourceImageID != in.ImageID {
				fix.srcTime = sw.SourceImageCreationTime == ""
			}
		}
		if sw.SourceImageRegion != "" {
			if !seedIsRegion(sw.SourceImageRegion) {
				return badW("source_image_region %q is not a region name such as us-east-1", truncateForMsg(sw.SourceImageRegion))
			}
			w.SourceImageRegion = sw.SourceImageRegion
		}
		if sw.SourceImageCreationTime != "" {
			t, err := parseSeedTime("source_image_creation_time", sw.SourceImageCreationTime)
			if err != nil {
				return badW("%v", err)
			}
			w.SourceImageCreationTime = t
		}
		if sw.WatermarkCreationTime != "" {
			t, err := parseSeedTime("watermark_creation_time", sw.WatermarkCreationTime)
			if err != nil {
				return badW("%v", err)
			}
			w.WatermarkCreationTime = t
		}
		img.Watermarks[j] = w
		if w.SourceImageID == "" || fix.srcTime {
			*fixes = append(*fixes, fix)
		}
	}
	return nil
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
	var memo seedMemo
	explicit := map[string]int{}
	for i := range in {
		if err := buildSeed(i, &in[i], &imgs[i], now, defAccount, &fixes, &memo); err != nil {
			return nil, err
		}
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
