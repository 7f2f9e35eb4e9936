package ec2emu

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// STS over the Query protocol (Action=...&Version=2011-06-15, XML answers):
// GetCallerIdentity and AssumeRole. The emulator has no IAM: every access
// key is a user of its account, and every role ARN in a well-formed form can
// be assumed unless the seed marks the role's account as refusing.
//
// AssumeRole's temporary access key id ends with the role's 12-digit account,
// so every later call signed with it (EC2, STS, Organizations, Image Builder)
// acts as that account, through the same rule as long-term keys
// (accountFromAccessKey). The session is remembered in the State so that
// GetCallerIdentity answers the assumed-role ARN.

const (
	stsVersion = "2011-06-15"
	stsNS      = "https://sts.amazonaws.com/doc/2011-06-15/"
	// stsUserName is the IAM user name of every long-term access key.
	stsUserName = "ec2emu"

	stsMinDuration     = 900
	stsMaxDuration     = 43200
	stsDefaultDuration = 3600
)

// Session is a set of temporary credentials AssumeRole handed out.
type Session struct {
	Account     string    `json:"account"`
	RoleName    string    `json:"role_name"`
	RoleARN     string    `json:"role_arn"`
	SessionName string    `json:"session_name"`
	Expiration  time.Time `json:"expiration"`
}

// stsHandler performs one STS action for caller c.
type stsHandler func(s *Server, c caller, rq *request, x *xmlOut) *apiError

var stsHandlers = map[string]stsHandler{
	"GetCallerIdentity": stsGetCallerIdentity,
	"AssumeRole":        stsAssumeRole,
}

func errSTSValidation(format string, args ...any) *apiError {
	return errBad("ValidationError", format, args...)
}

// serveSTS serves the STS Query API to caller c.
func (s *Server) serveSTS(w http.ResponseWriter, r *http.Request, c caller) {
	reqID := newRequestID()
	if r.Method != http.MethodPost && r.Method != http.MethodGet {
		writeSTSError(w, reqID, &apiError{Status: http.StatusMethodNotAllowed, Code: "InvalidAction",
			Message: "STS accepts POST (form-encoded) or GET requests on /, not " + r.Method + "."})
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxAPIBody)
	if err := r.ParseForm(); err != nil {
		writeSTSError(w, reqID, errBad("InvalidRequest", "The request body could not be parsed as a form-encoded STS Query request: %v", err))
		return
	}
	rq := &request{form: r.Form, id: reqID, action: r.Form.Get("Action"), region: c.region, account: c.account}
	s.recordCall(rq.action, rq.region)
	if aerr := s.injectFault(r.Context(), rq.action, rq.region); aerr != nil {
		writeSTSError(w, reqID, serviceFault(serviceSTS, aerr))
		return
	}
	if rq.action == "" {
		writeSTSError(w, reqID, errBad("MissingAction", "The request must contain the parameter Action."))
		return
	}
	h, ok := stsHandlers[rq.action]
	if !ok {
		writeSTSError(w, reqID, errBad("InvalidAction", "Could not find operation %s for version %s.", truncateForMsg(rq.action), stsVersion))
		return
	}
	if v := r.Form.Get("Version"); v != stsVersion {
		writeSTSError(w, reqID, errBad("InvalidAction", "Could not find operation %s for version %s: the emulator speaks only STS version %s.",
			truncateForMsg(rq.action), truncateForMsg(v), stsVersion))
		return
	}
	x := &xmlOut{b: make([]byte, 0, 1024), action: rq.action}
	x.raw(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	x.raw("<" + rq.action + "Response xmlns=\"" + stsNS + "\">")
	x.open(rq.action + "Result")
	s.mu.Lock()
	rq.now = s.now()
	aerr := h(s, c, rq, x)
	s.mu.Unlock()
	if aerr != nil {
		writeSTSError(w, reqID, aerr)
		return
	}
	x.close(rq.action + "Result")
	x.raw("<ResponseMetadata>")
	x.elem("RequestId", reqID)
	x.raw("</ResponseMetadata>")
	x.finish()
	h2 := w.Header()
	h2.Set("Content-Type", "text/xml")
	h2.Set("X-Amzn-Requestid", reqID)
	h2.Set("Content-Length", strconv.Itoa(len(x.b)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(x.b)
}

// writeSTSError writes STS's error envelope:
// <ErrorResponse><Error><Type>Sender|Receiver</Type><Code/><Message/></Error><RequestId/></ErrorResponse>.
func writeSTSError(w http.ResponseWriter, reqID string, e *apiError) {
	status := e.Status
	if status == 0 {
		status = http.StatusBadRequest
	}
	kind := "Sender"
	if status >= 500 {
		kind = "Receiver"
	}
	x := &xmlOut{b: make([]byte, 0, 256)}
	x.raw(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	x.raw(`<ErrorResponse xmlns="` + stsNS + `"><Error>`)
	x.elem("Type", kind)
	x.elem("Code", e.Code)
	x.elem("Message", e.Message)
	x.raw("</Error>")
	x.elem("RequestId", reqID)
	x.raw("</ErrorResponse>")
	h := w.Header()
	h.Set("Content-Type", "text/xml")
	h.Set("X-Amzn-Requestid", reqID)
	h.Set("Content-Length", strconv.Itoa(len(x.b)))
	w.WriteHeader(status)
	_, _ = w.Write(x.b)
}

// serviceFault renames an injected fault's EC2 throttling code to the
// service's own (STS: Throttling; JSON services: ThrottlingException), so
// the answer looks like that service's throttling.
func serviceFault(service string, e *apiError) *apiError {
	if e.Code != "RequestLimitExceeded" {
		return e
	}
	out := *e
	switch service {
	case serviceSTS:
		out.Code, out.Status = "Throttling", http.StatusBadRequest
		out.Message = "Rate exceeded"
	case serviceOrganizations:
		out.Code, out.Status = "TooManyRequestsException", http.StatusBadRequest
		out.Message = "AWS Organizations can't complete your request because the request rate is too high. Try again later."
	default:
		out.Code = "ThrottlingException"
		out.Message = "Rate exceeded"
	}
	return &out
}

// callerARN is the ARN GetCallerIdentity answers for c: the assumed role of
// a session AssumeRole handed out, else the IAM user of the account.
func (s *Server) callerARN(c caller) (arn, userID string) {
	if ses := s.st.Sessions[c.accessKeyID]; ses != nil && ses.Account == c.account {
		return "arn:aws:sts::" + ses.Account + ":assumed-role/" + ses.RoleName + "/" + ses.SessionName,
			uniqueID("AROA", ses.RoleARN) + ":" + ses.SessionName
	}
	return "arn:aws:iam::" + c.account + ":user/" + stsUserName, uniqueID("AIDA", c.account)
}

// uniqueID is a stable IAM unique id (prefix and 17 characters) for seed.
func uniqueID(prefix, seed string) string {
	sum := sha256.Sum256([]byte(seed))
	return prefix + strings.ToUpper(base32NoPad(sum[:])[:17])
}

func base32NoPad(b []byte) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	var out []byte
	for i := 0; i+5 <= len(b); i += 5 {
		v := uint64(b[i])<<32 | uint64(b[i+1])<<24 | uint64(b[i+2])<<16 | uint64(b[i+3])<<8 | uint64(b[i+4])
		for j := 7; j >= 0; j-- {
			out = append(out, alphabet[(v>>(uint(j)*5))&31])
		}
	}
	return string(out)
}

func stsGetCallerIdentity(s *Server, c caller, rq *request, x *xmlOut) *apiError {
	arn, userID := s.callerARN(c)
	x.elem("Arn", arn)
	x.elem("UserId", userID)
	x.elem("Account", c.account)
	return nil
}

// parseRoleARN checks arn:aws:iam::ACCOUNT:role/[PATH/]NAME and returns the
// account and the role name (without its path).
func parseRoleARN(arn string) (account, name string, ok bool) {
	rest, found := strings.CutPrefix(arn, "arn:aws:iam::")
	if !found || len(rest) < 13 {
		return "", "", false
	}
	account, res := rest[:12], rest[12:]
	if !seedIsAccount(account) || !strings.HasPrefix(res, ":role/") {
		return "", "", false
	}
	res = res[len(":role/"):]
	name = res[strings.LastIndexByte(res, '/')+1:]
	if name == "" || len(name) > 64 {
		return "", "", false
	}
	for _, r := range res {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("+=,.@_-/", r)) {
			return "", "", false
		}
	}
	return account, name, true
}

// validSTSName reports whether v has min..max characters of [\w+=,.@-]
// (plus the characters in extra).
func validSTSName(v string, min, max int, extra string) bool {
	if len(v) < min || len(v) > max {
		return false
	}
	for _, r := range v {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_+=,.@-"+extra, r)) {
			return false
		}
	}
	return true
}

func stsAssumeRole(s *Server, c caller, rq *request, x *xmlOut) *apiError {
	roleARN, sessionName := rq.get("RoleArn"), rq.get("RoleSessionName")
	if roleARN == "" {
		return errSTSValidation("1 validation error detected: Value null at 'roleArn' failed to satisfy constraint: Member must not be null")
	}
	if sessionName == "" {
		return errSTSValidation("1 validation error detected: Value null at 'roleSessionName' failed to satisfy constraint: Member must not be null")
	}
	account, roleName, ok := parseRoleARN(roleARN)
	if !ok {
		return errSTSValidation("%s is not a valid role ARN: use arn:aws:iam::ACCOUNT:role/NAME, where ACCOUNT is a 12-digit account id", truncateForMsg(roleARN))
	}
	if !validSTSName(sessionName, 2, 64, "") {
		return errSTSValidation("1 validation error detected: Value '%s' at 'roleSessionName' failed to satisfy constraint: Member must have length between 2 and 64 and match the regular expression pattern [\\w+=,.@-]*", truncateForMsg(sessionName))
	}
	externalID, hasExternal := rq.get("ExternalId"), rq.has("ExternalId")
	if hasExternal && !validSTSName(externalID, 2, 1224, ":/") {
		return errSTSValidation("1 validation error detected: Value at 'externalId' failed to satisfy constraint: Member must have length between 2 and 1224 and match the regular expression pattern [\\w+=,.@:\\/-]*")
	}
	duration := int64(stsDefaultDuration)
	if rq.has("DurationSeconds") {
		n, err := strconv.ParseInt(rq.get("DurationSeconds"), 10, 64)
		if err != nil || n < stsMinDuration || n > stsMaxDuration {
			return errSTSValidation("1 validation error detected: Value '%s' at 'durationSeconds' failed to satisfy constraint: Member must have value between %d and %d",
				truncateForMsg(rq.get("DurationSeconds")), stsMinDuration, stsMaxDuration)
		}
		duration = n
	}
	if aerr := s.assumeRoleRefusal(c, roleARN, account, externalID); aerr != nil {
		return aerr
	}

	// Expiration counts from the later of the emulator's clock and the wall
	// clock, so an SDK (which compares with the wall clock) never sees the
	// credentials as expired when a test has set the emulator's clock back.
	start := rq.now
	if wall := time.Now().UTC(); wall.After(start) {
		start = wall
	}
	ses := &Session{Account: account, RoleName: roleName, RoleARN: roleARN, SessionName: sessionName,
		Expiration: start.Add(time.Duration(duration) * time.Second).Truncate(time.Second)}
	akid := "ASIA" + randomUpper(8) + account
	if s.st.Sessions == nil {
		s.st.Sessions = map[string]*Session{}
	}
	s.st.Sessions[akid] = ses
	s.changedSessions()

	x.open("Credentials")
	x.elem("AccessKeyId", akid)
	x.elem("SecretAccessKey", randomToken(30))
	x.elem("SessionToken", randomToken(96))
	x.elemTime("Expiration", ses.Expiration, time.RFC3339)
	x.close("Credentials")
	x.open("AssumedRoleUser")
	x.elem("AssumedRoleId", uniqueID("AROA", roleARN)+":"+sessionName)
	x.elem("Arn", "arn:aws:sts::"+account+":assumed-role/"+roleName+"/"+sessionName)
	x.close("AssumedRoleUser")
	x.elemInt("PackedPolicySize", 0)
	return nil
}

// errAssumeRoleDenied is STS's answer when the role's trust policy does not
// let the caller in.
func (s *Server) errAssumeRoleDenied(c caller, roleARN string) *apiError {
	arn, _ := s.callerARN(c)
	return &apiError{Status: http.StatusForbidden, Code: "AccessDenied",
		Message: "User: " + arn + " is not authorized to perform: sts:AssumeRole on resource: " + truncateForMsg(roleARN)}
}

// randomUpper returns n random characters of A-Z and 2-7.
func randomUpper(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base32NoPad(append(b, make([]byte, 5)...))[:n]
}

// randomToken returns base64 of n random bytes.
func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

// assumeRoleRefusal is the answer when the role's account refuses c, or nil:
// a seeded account with refuse_assume_role refuses everyone, one with
// external_id refuses a call without that ExternalId.
func (s *Server) assumeRoleRefusal(c caller, roleARN, account, externalID string) *apiError {
	a := s.st.Accounts[account]
	if a == nil {
		return nil
	}
	if a.RefuseAssumeRole || (a.ExternalID != "" && a.ExternalID != externalID) {
		return s.errAssumeRoleDenied(c, roleARN)
	}
	return nil
}
