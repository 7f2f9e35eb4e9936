package ec2emu

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// The EC2 Query API half of the emulator: request parsing, the XML
// envelopes, and the dispatch to the actions (api_*.go). Behaviour follows
// docs/ec2-semantics.md (the emulator's contract).

const (
	apiVersion = "2016-11-15"
	xmlNS      = "http://ec2.amazonaws.com/doc/2016-11-15/"
	// defaultRegion is used when a request carries no SigV4 credential scope
	// (an unsigned raw request).
	defaultRegion = "us-east-1"
	// maxAPIBody bounds a request body.
	maxAPIBody = 8 << 20
)

// apiError is an EC2 error answer: the HTTP status, the EC2 error code and
// its message.
type apiError struct {
	Status  int
	Code    string
	Message string
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

// errBad is a 400 client error.
func errBad(code, format string, args ...any) *apiError {
	msg := format
	if len(args) > 0 {
		msg = fmt.Sprintf(format, args...)
	}
	return &apiError{Status: http.StatusBadRequest, Code: code, Message: msg}
}

func errMissing(param string) *apiError {
	return errBad("MissingParameter", "The request must contain the parameter %s", param)
}

func errInvalidValue(param, value, why string) *apiError {
	return errBad("InvalidParameterValue", "Value (%s) for parameter %s is invalid. %s", value, param, why)
}

func errDryRun() *apiError {
	return &apiError{Status: http.StatusPreconditionFailed, Code: "DryRunOperation",
		Message: "Request would have succeeded, but DryRun flag is set."}
}

func errImageNotFound(ids ...string) *apiError {
	if len(ids) == 1 {
		return errBad("InvalidAMIID.NotFound", "The image id '[%s]' does not exist", ids[0])
	}
	return errBad("InvalidAMIID.NotFound", "The image ids '[%s]' do not exist", strings.Join(ids, ", "))
}

func errImageMalformed(id string) *apiError {
	return errBad("InvalidAMIID.Malformed", "Invalid id: %q (expecting \"ami-...\")", id)
}

func errImageUnavailable(id string) *apiError {
	return errBad("InvalidAMIID.Unavailable", "The image ID '%s' is no longer available", id)
}

func errNotAuthorized(id string) *apiError {
	return errBad("AuthFailure", "Not authorized for image:%s", id)
}

func errIncorrectState(id string) *apiError {
	return errBad("IncorrectState", "The image '%s' is not in the available state.", id)
}

// request is one parsed API call. Handlers run with s.mu held.
type request struct {
	form    url.Values
	action  string
	region  string
	account string
	id      string
	now     time.Time
	// items is the number of items the answer returns (the latency model).
	items int
}

// handler performs one action and writes the children of the response
// element into x.
type handler func(s *Server, rq *request, x *xmlOut) *apiError

var handlers = map[string]handler{}

// register adds actions to the dispatch table, each wrapped by countChanges;
// the files that serve EC2 actions call it from init.
func register(m map[string]handler) {
	for k, v := range m {
		handlers[k] = countChanges(k, v)
	}
}

// serveAPI serves the EC2 Query API to caller c.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request, c caller) {
	reqID := newRequestID()
	if r.Method != http.MethodPost && r.Method != http.MethodGet {
		writeAPIError(w, reqID, &apiError{Status: http.StatusMethodNotAllowed, Code: "InvalidRequest",
			Message: "The EC2 Query API accepts POST (form-encoded) or GET requests on /, not " + r.Method + "."})
		return
	}
	if r.URL.Path != "/" && r.URL.Path != "" {
		writeAPIError(w, reqID, &apiError{Status: http.StatusNotFound, Code: "InvalidRequest",
			Message: "Unknown path " + strconv.Quote(r.URL.Path) + ": the EC2 Query API is served on / and the control endpoints under /_emu/."})
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxAPIBody)
	if err := r.ParseForm(); err != nil {
		writeAPIError(w, reqID, errBad("InvalidRequest", "The request body could not be parsed as a form-encoded EC2 Query request: %v", err))
		return
	}
	rq := &request{form: r.Form, id: reqID, action: r.Form.Get("Action")}
	rq.region, rq.account = c.region, c.account

	s.recordCall(rq.action, rq.region)
	if aerr := s.throttle(rq.action, rq.account, rq.region); aerr != nil {
		writeAPIError(w, reqID, aerr)
		return
	}
	if rq.form.Get("DryRun") == "true" {
		s.stats.recordDryRun(rq.action)
	}
	if aerr := s.injectFault(r.Context(), rq.action, rq.region); aerr != nil {
		writeAPIError(w, reqID, aerr)
		return
	}
	if aerr := s.regionNotEnabled(rq.account, rq.region); aerr != nil {
		writeAPIError(w, reqID, aerr)
		return
	}
	if aerr := s.actionDenied(rq.account, rq.action); aerr != nil {
		writeAPIError(w, reqID, aerr)
		return
	}
	if rq.action == "" {
		writeAPIError(w, reqID, errBad("MissingAction", "The request must contain the parameter Action."))
		return
	}
	h, ok := handlers[rq.action]
	if !ok {
		writeAPIError(w, reqID, errBad("InvalidAction", "The action %s is not valid for this web service.", truncateForMsg(rq.action)))
		return
	}
	if v := r.Form.Get("Version"); v != "" && v != apiVersion {
		// The SDK always sends 2016-11-15; other versions are not emulated.
		writeAPIError(w, reqID, errBad("InvalidParameterValue",
			"Value (%s) for parameter Version is invalid. The emulator speaks only API version %s.", truncateForMsg(v), apiVersion))
		return
	}

	x := newXMLOut(rq.action, reqID)
	aerr, served := s.describeShared(rq, x)
	if !served {
		s.mu.Lock()
		rq.now = s.now()
		aerr = h(s, rq, x)
		s.mu.Unlock()
	}
	if aerr != nil {
		writeAPIError(w, reqID, aerr)
		return
	}
	setItems(r.Context(), rq.items)
	x.finish()
	setAPIHeaders(w, reqID)
	// The Date header carries the emulator's clock (moved by /_emu/clock),
	// as EC2's carries its own: clients measuring ages against the server's
	// time see the same clock as the watermark timestamps.
	w.Header().Set("Date", rq.now.UTC().Format(http.TimeFormat))
	w.Header().Set("Content-Length", strconv.Itoa(len(x.b)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(x.b)
	reuseAnswerBuffer(x.b)
}

// answerBuffers keeps the buffers of written answers for the next ones: a
// scan's DescribeImages pages are up to a megabyte each, and allocating
// them anew makes the emulator's garbage collector, which walks every
// stored image, run often.
var answerBuffers sync.Pool

func answerBuffer() []byte {
	if b, ok := answerBuffers.Get().(*[]byte); ok {
		return (*b)[:0]
	}
	return make([]byte, 0, 1024)
}

// reuseAnswerBuffer returns b to the pool once its answer is written
// (net/http keeps no reference to what Write was given). Buffers past
// 4 MiB are left to the collector.
func reuseAnswerBuffer(b []byte) {
	if cap(b) <= 4<<20 {
		answerBuffers.Put(&b)
	}
}

// describeShared serves a DescribeImages request that changes nothing
// under the shared lock, so that concurrent describes (an organization-wide
// scan's pages) are evaluated and written in parallel. A request that may
// change the state (an image it would see is pending or still answers
// NotFound, see describeMayChange) or that finds the region index out of
// date is not served here (served = false) and runs under the exclusive
// lock like every other action.
func (s *Server) describeShared(rq *request, x *xmlOut) (aerr *apiError, served bool) {
	if rq.action != "DescribeImages" {
		return nil, false
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if !s.st.index.inSync(s.st) || s.describeMayChange(rq) {
		return nil, false
	}
	rq.now = s.now()
	return describeImages(s, rq, x), true
}

// accountFromAccessKey returns the last 12 characters of akid when they are
// all digits, else def.
func accountFromAccessKey(akid, def string) string {
	if len(akid) < 12 {
		return def
	}
	tail := akid[len(akid)-12:]
	for i := 0; i < len(tail); i++ {
		if tail[i] < '0' || tail[i] > '9' {
			return def
		}
	}
	return tail
}

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = (b[6] & 0x0f) | 0x40
	b[8] = (b[8] & 0x3f) | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func setAPIHeaders(w http.ResponseWriter, reqID string) {
	h := w.Header()
	h.Set("Content-Type", "text/xml;charset=UTF-8")
	h.Set("X-Amzn-Requestid", reqID)
	h.Set("X-Amz-Requestid", reqID)
	h.Set("Server", "AmazonEC2")
}

// writeAPIError writes the EC2 error envelope (docs/ec2-semantics.md, "EC2 wire protocol").
func writeAPIError(w http.ResponseWriter, reqID string, e *apiError) {
	status := e.Status
	if status == 0 {
		status = http.StatusBadRequest
	}
	x := &xmlOut{b: make([]byte, 0, 256)}
	x.raw(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	x.raw("<Response><Errors><Error>")
	x.elem("Code", e.Code)
	x.elem("Message", e.Message)
	x.raw("</Error></Errors>")
	x.elem("RequestID", reqID)
	x.raw("</Response>")
	setAPIHeaders(w, reqID)
	w.Header().Set("Content-Length", strconv.Itoa(len(x.b)))
	w.WriteHeader(status)
	_, _ = w.Write(x.b)
}

func truncateForMsg(s string) string {
	const max = 200
	if len(s) <= max {
		return s
	}
	return s[:max] + "..."
}

// ---- XML output ----

// xmlOut builds an XML document by appending to one buffer, escaping text,
// without reflection.
type xmlOut struct {
	b      []byte
	action string
}

func newXMLOut(action, reqID string) *xmlOut {
	x := &xmlOut{b: answerBuffer(), action: action}
	x.raw(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	x.raw("<" + action + "Response xmlns=\"" + xmlNS + "\">")
	x.elem("requestId", reqID)
	return x
}

func (x *xmlOut) finish() { x.raw("</" + x.action + "Response>") }

func (x *xmlOut) raw(s string) { x.b = append(x.b, s...) }

// reserve makes room for n more bytes at once (a big answer would
// otherwise be copied at every doubling of the buffer).
func (x *xmlOut) reserve(n int) { x.b = slices.Grow(x.b, n) }

func (x *xmlOut) open(name string) {
	x.b = append(x.b, '<')
	x.b = append(x.b, name...)
	x.b = append(x.b, '>')
}

func (x *xmlOut) close(name string) {
	x.b = append(x.b, '<', '/')
	x.b = append(x.b, name...)
	x.b = append(x.b, '>')
}

// elem writes <name>escaped value</name>.
func (x *xmlOut) elem(name, value string) {
	x.open(name)
	x.text(value)
	x.close(name)
}

// elemOpt writes the element only when value is not empty.
func (x *xmlOut) elemOpt(name, value string) {
	if value != "" {
		x.elem(name, value)
	}
}

func (x *xmlOut) elemBool(name string, v bool) {
	x.open(name)
	x.b = strconv.AppendBool(x.b, v)
	x.close(name)
}

func (x *xmlOut) elemInt(name string, v int64) {
	x.open(name)
	x.b = strconv.AppendInt(x.b, v, 10)
	x.close(name)
}

// elemTime writes a timestamp in the given layout (UTC).
func (x *xmlOut) elemTime(name string, t time.Time, layout string) {
	x.open(name)
	x.b = appendTime(x.b, t.UTC(), layout)
	x.close(name)
}

// appendTime is t.AppendFormat(b, layout) for a UTC time, written out by
// hand for the two layouts of image answers (a large DescribeImages answer
// formats thousands of them); TestAppendTime holds it to AppendFormat.
func appendTime(b []byte, t time.Time, layout string) []byte {
	var frac int
	switch layout {
	case layoutCreationDate:
		frac = 3
	case layoutWatermarkTime:
		frac = 6
	}
	year, month, day := t.Date()
	if frac == 0 || year < 0 || year > 9999 {
		return t.AppendFormat(b, layout)
	}
	hour, minute, sec := t.Clock()
	b = appendDigits(b, year, 4)
	b = append(b, '-')
	b = appendDigits(b, int(month), 2)
	b = append(b, '-')
	b = appendDigits(b, day, 2)
	b = append(b, 'T')
	b = appendDigits(b, hour, 2)
	b = append(b, ':')
	b = appendDigits(b, minute, 2)
	b = append(b, ':')
	b = appendDigits(b, sec, 2)
	b = append(b, '.')
	ns := t.Nanosecond()
	if frac == 3 {
		b = appendDigits(b, ns/1e6, 3)
		return append(b, 'Z')
	}
	b = appendDigits(b, ns/1e3, 6)
	return append(b, "+00:00"...)
}

// appendDigits appends v (>= 0) with at least width digits.
func appendDigits(b []byte, v, width int) []byte {
	var buf [8]byte
	i := len(buf)
	for v > 0 || width > 0 {
		i--
		buf[i] = byte('0' + v%10)
		v /= 10
		width--
	}
	return append(b, buf[i:]...)
}

// xmlPlain marks the bytes text copies as they are: printable ASCII but
// for & < > " '.
var xmlPlain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = !strings.ContainsRune(`&<>"'`, rune(c))
	}
	return t
}()

// text appends s escaped for XML character data. Characters XML 1.0 cannot
// carry are replaced by U+FFFD so the SDK's decoder never fails on them.
func (x *xmlOut) text(s string) {
	last := 0
	for i := 0; i < len(s); {
		c := s[i]
		if xmlPlain[c] {
			i++
			continue
		}
		var esc string
		width := 1
		switch c {
		case '&':
			esc = "&amp;"
		case '<':
			esc = "&lt;"
		case '>':
			esc = "&gt;"
		case '"':
			esc = "&quot;"
		case '\'':
			esc = "&apos;"
		case '\t':
			esc = "&#x9;"
		case '\n':
			esc = "&#xA;"
		case '\r':
			esc = "&#xD;"
		default:
			if c < 0x20 {
				esc = "\uFFFD"
				break
			}
			r, w := utf8.DecodeRuneInString(s[i:])
			width = w
			if (r == utf8.RuneError && w == 1) || r == 0xFFFE || r == 0xFFFF {
				esc = "\uFFFD"
			} else {
				i += w
				continue
			}
		}
		x.b = append(x.b, s[last:i]...)
		x.b = append(x.b, esc...)
		i += width
		last = i
	}
	x.b = append(x.b, s[last:]...)
}

// ---- timestamps ----

const (
	// layoutWatermarkTime is the documented YYYY-MM-DDTHH:MM:SS.ssssss+HH:MM.
	layoutWatermarkTime = "2006-01-02T15:04:05.000000-07:00"
	// layoutCreationDate is AWS's creationDate form 2026-06-24T03:15:42.000Z.
	layoutCreationDate = "2006-01-02T15:04:05.000Z"
)

func formatWatermarkTime(t time.Time) string { return t.UTC().Format(layoutWatermarkTime) }
func formatCreationDate(t time.Time) string  { return t.UTC().Format(layoutCreationDate) }

// ---- form parameters ----

// has reports whether the key was sent at all (an empty value counts).
func (rq *request) has(key string) bool {
	_, ok := rq.form[key]
	return ok
}

func (rq *request) get(key string) string { return rq.form.Get(key) }

// required returns the value of a required parameter; a missing or empty
// value is MissingParameter.
func (rq *request) required(key string) (string, *apiError) {
	v := rq.form.Get(key)
	if v == "" {
		return "", errMissing(key)
	}
	return v, nil
}

// boolParam parses an optional boolean ("true"/"false").
func (rq *request) boolParam(key string) (bool, *apiError) {
	v, ok := rq.form[key]
	if !ok || len(v) == 0 || v[0] == "" {
		return false, nil
	}
	switch strings.ToLower(v[0]) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, errInvalidValue(key, truncateForMsg(v[0]), "Expecting true or false.")
}

// intParam parses an optional integer; ok is false when it was not sent.
func (rq *request) intParam(key string) (n int64, ok bool, aerr *apiError) {
	v := rq.form.Get(key)
	if v == "" {
		return 0, false, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, false, errInvalidValue(key, truncateForMsg(v), "Expecting an integer.")
	}
	return n, true, nil
}

// indices returns the sorted distinct list indices N of keys "prefix.N" or
// "prefix.N.rest". Lists on the wire are flattened and 1-based.
func (rq *request) indices(prefix string) []int {
	p := prefix + "."
	seen := map[int]bool{}
	var out []int
	for k := range rq.form {
		if !strings.HasPrefix(k, p) {
			continue
		}
		rest := k[len(p):]
		if j := strings.IndexByte(rest, '.'); j >= 0 {
			rest = rest[:j]
		}
		n, err := strconv.Atoi(rest)
		if err != nil || n < 1 || seen[n] {
			continue
		}
		seen[n] = true
		out = append(out, n)
	}
	sort.Ints(out)
	return out
}

// list returns the values of "prefix.N" in index order.
func (rq *request) list(prefix string) []string {
	idx := rq.indices(prefix)
	if len(idx) == 0 {
		return nil
	}
	out := make([]string, 0, len(idx))
	for _, n := range idx {
		k := prefix + "." + strconv.Itoa(n)
		if rq.has(k) {
			out = append(out, rq.get(k))
		}
	}
	return out
}

// sub returns "prefix.N".
func sub(prefix string, n int) string { return prefix + "." + strconv.Itoa(n) }

// tagsParam parses "prefix.N.Key"/"prefix.N.Value" pairs.
func (rq *request) tagsParam(prefix string) ([]tagKV, *apiError) {
	var out []tagKV
	for _, n := range rq.indices(prefix) {
		p := sub(prefix, n)
		if !rq.has(p + ".Key") {
			return nil, errMissing(p + ".Key")
		}
		t := tagKV{Key: rq.get(p + ".Key"), Value: rq.get(p + ".Value"), HasValue: rq.has(p + ".Value")}
		out = append(out, t)
	}
	return out, nil
}

type tagKV struct {
	Key, Value string
	HasValue   bool
}

// tagSpecs returns the tags of TagSpecification.N entries for resourceType.
func (rq *request) tagSpecs(resourceType string) (map[string]string, *apiError) {
	var tags map[string]string
	for _, n := range rq.indices("TagSpecification") {
		p := sub("TagSpecification", n)
		rt := rq.get(p + ".ResourceType")
		if rt == "" {
			return nil, errMissing(p + ".ResourceType")
		}
		kvs, aerr := rq.tagsParam(p + ".Tag")
		if aerr != nil {
			return nil, aerr
		}
		if rt != resourceType {
			continue
		}
		for _, kv := range kvs {
			if aerr := validateTag(kv.Key, kv.Value); aerr != nil {
				return nil, aerr
			}
			if tags == nil {
				tags = map[string]string{}
			}
			tags[kv.Key] = kv.Value
		}
	}
	if len(tags) > maxTagsPerResource {
		return nil, errBad("TagLimitExceeded", "The maximum number of tags per resource is %d; the request has %d.", maxTagsPerResource, len(tags))
	}
	return tags, nil
}

const maxTagsPerResource = 50

func validateTag(key, value string) *apiError {
	if key == "" {
		return errInvalidValue("Tag.Key", "", "Tag keys must be 1-128 characters.")
	}
	if utf8.RuneCountInString(key) > 128 {
		return errInvalidValue("Tag.Key", truncateForMsg(key), "Tag keys must be 1-128 characters.")
	}
	if strings.HasPrefix(key, "aws:") {
		return errInvalidValue("Tag.Key", key, "Tag keys starting with 'aws:' are reserved for internal use.")
	}
	if utf8.RuneCountInString(value) > 256 {
		return errInvalidValue("Tag.Value", truncateForMsg(value), "Tag values must be at most 256 characters.")
	}
	return nil
}

// ---- ids ----

// isImageID reports whether id is well formed: "ami-" and 8 or 17
// lowercase hex digits.
func isImageID(id string) bool { return isResourceID(id, "ami-") }

// isInstanceID reports whether id is "i-" and 8 or 17 lowercase hex digits.
func isInstanceID(id string) bool { return isResourceID(id, "i-") }

func isResourceID(id, prefix string) bool {
	if !strings.HasPrefix(id, prefix) {
		return false
	}
	h := id[len(prefix):]
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

// mixSeq is a bijection on uint64 (splitmix64's finalizer), so distinct
// sequence numbers give distinct, random-looking ids.
func mixSeq(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// nextHexID returns prefix + "0" + 16 hex digits from State.Seq. Callers
// hold s.mu.
func (s *Server) nextHexID(prefix string, taken func(string) bool) string {
	for {
		s.st.Seq++
		id := fmt.Sprintf("%s0%016x", prefix, mixSeq(s.st.Seq))
		if !taken(id) {
			return id
		}
	}
}

// newImageID returns a fresh AMI id (ami- and 17 hex digits), unique in the
// state. Callers hold s.mu.
func (s *Server) newImageID() string {
	return s.nextHexID("ami-", func(id string) bool { _, ok := s.st.Images[id]; return ok })
}

// newInstanceID returns a fresh instance id (i- and 17 hex digits). Callers
// hold s.mu.
func (s *Server) newInstanceID() string {
	return s.nextHexID("i-", func(id string) bool { _, ok := s.st.Instances[id]; return ok })
}

// newSnapshotID returns a fresh snapshot id. Callers hold s.mu.
func (s *Server) newSnapshotID() string {
	return s.nextHexID("snap-", func(string) bool { return false })
}

// newReservationID returns a fresh reservation id. Callers hold s.mu.
func (s *Server) newReservationID() string {
	return s.nextHexID("r-", func(string) bool { return false })
}
