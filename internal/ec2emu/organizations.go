package ec2emu

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
)

// AWS Organizations over JSON 1.1: ListAccounts and DescribeOrganization,
// over the seeded organization (seed "organization" and "accounts").
//
// Who may call what (chosen to match AWS's documented permissions as far as
// tests need them): DescribeOrganization, any account of the organization;
// ListAccounts, the management account and the seeded delegated
// administrators only, every other caller gets AccessDeniedException. With no
// organization seeded both answer AWSOrganizationsNotInUseException.

const (
	orgTargetPrefix  = "AWSOrganizationsV20161128."
	orgContentType   = "application/x-amz-json-1.1"
	orgMaxResults    = 20
	orgDefaultResult = 20
)

type orgHandler func(s *Server, c caller, body []byte) (any, *jsonError)

var orgHandlers = map[string]orgHandler{
	"ListAccounts":         orgListAccounts,
	"DescribeOrganization": orgDescribeOrganization,
}

// serveOrganizations serves the Organizations JSON 1.1 API to caller c.
func (s *Server) serveOrganizations(w http.ResponseWriter, r *http.Request, c caller) {
	reqID := newRequestID()
	fail := func(e *jsonError) { writeJSONError(w, orgContentType, reqID, e) }
	if r.Method != http.MethodPost {
		fail(&jsonError{Status: http.StatusMethodNotAllowed, Code: "UnknownOperationException", Message: "Organizations accepts POST requests on /, not " + r.Method + "."})
		return
	}
	op, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), orgTargetPrefix)
	if !ok {
		fail(&jsonError{Code: "UnknownOperationException", Message: "The X-Amz-Target header must be " + orgTargetPrefix + "OPERATION."})
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxAPIBody))
	if err != nil {
		fail(&jsonError{Code: "SerializationException", Message: "The request body could not be read: " + err.Error()})
		return
	}
	s.recordCall(op, c.region)
	if aerr := s.injectFault(r.Context(), op, c.region); aerr != nil {
		fail(fromAPIError(serviceOrganizations, aerr))
		return
	}
	h, ok := orgHandlers[op]
	if !ok {
		fail(&jsonError{Code: "UnknownOperationException", Message: "The emulator does not serve the Organizations operation " + truncateForMsg(op) + "."})
		return
	}
	s.mu.Lock()
	out, jerr := h(s, c, body)
	s.mu.Unlock()
	if jerr != nil {
		fail(jerr)
		return
	}
	if m, ok := out.(map[string]any); ok {
		if accounts, ok := m["Accounts"].([]map[string]any); ok {
			setItems(r.Context(), len(accounts))
		}
	}
	writeJSON(w, orgContentType, reqID, out)
}

func errOrgNotInUse() *jsonError {
	return &jsonError{Code: "AWSOrganizationsNotInUseException",
		Message: "Your account is not a member of an organization."}
}

func errOrgAccessDenied() *jsonError {
	return &jsonError{Code: "AccessDeniedException",
		Message: "You don't have permissions to access this resource."}
}

func errOrgInput(reason, msg string) *jsonError {
	return &jsonError{Code: "InvalidInputException", Message: msg, Extra: map[string]string{"Reason": reason}}
}

// orgDecode decodes a JSON body ("" and {} are empty input).
func orgDecode(body []byte, v any) *jsonError {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	if err := json.Unmarshal(body, v); err != nil {
		return &jsonError{Code: "SerializationException", Message: "The request body is not valid JSON for this operation: " + err.Error()}
	}
	return nil
}

func (s *Server) orgARN(o *Organization) string {
	return "arn:aws:organizations::" + o.ManagementAccount + ":organization/" + o.ID
}

func orgDescribeOrganization(s *Server, c caller, body []byte) (any, *jsonError) {
	o := s.st.Organization
	if o == nil || s.st.Accounts[c.account] == nil {
		return nil, errOrgNotInUse()
	}
	mgmt := s.st.Accounts[o.ManagementAccount]
	return map[string]any{"Organization": map[string]any{
		"Id":                 o.ID,
		"Arn":                s.orgARN(o),
		"FeatureSet":         "ALL",
		"MasterAccountId":    o.ManagementAccount,
		"MasterAccountArn":   "arn:aws:organizations::" + o.ManagementAccount + ":account/" + o.ID + "/" + o.ManagementAccount,
		"MasterAccountEmail": mgmt.Email,
		"AvailablePolicyTypes": []map[string]string{
			{"Type": "SERVICE_CONTROL_POLICY", "Status": "ENABLED"},
		},
	}}, nil
}

// mayListAccounts reports whether account may call ListAccounts.
func (o *Organization) mayListAccounts(account string) bool {
	if account == o.ManagementAccount {
		return true
	}
	for _, d := range o.DelegatedAdmins {
		if d == account {
			return true
		}
	}
	return false
}

func orgListAccounts(s *Server, c caller, body []byte) (any, *jsonError) {
	var in struct {
		MaxResults *int
		NextToken  *string
	}
	if jerr := orgDecode(body, &in); jerr != nil {
		return nil, jerr
	}
	o := s.st.Organization
	if o == nil {
		return nil, errOrgNotInUse()
	}
	if !o.mayListAccounts(c.account) {
		return nil, errOrgAccessDenied()
	}
	limit := orgDefaultResult
	if in.MaxResults != nil {
		switch n := *in.MaxResults; {
		case n < 1:
			return nil, errOrgInput("MIN_VALUE_EXCEEDED", "MaxResults must be at least 1.")
		case n > orgMaxResults:
			return nil, errOrgInput("MAX_VALUE_EXCEEDED", "MaxResults must be at most 20.")
		default:
			limit = n
		}
	}
	all := s.orgAccounts()
	start := 0
	if in.NextToken != nil {
		after, ok := decodeOrgToken(*in.NextToken)
		if !ok {
			return nil, errOrgInput("INVALID_PAGINATION_TOKEN", "The NextToken is not one this operation gave out.")
		}
		for start < len(all) && all[start].ID <= after {
			start++
		}
	}
	end := min(start+limit, len(all))
	accounts := make([]map[string]any, 0, end-start)
	for _, a := range all[start:end] {
		accounts = append(accounts, map[string]any{
			"Id":              a.ID,
			"Arn":             "arn:aws:organizations::" + o.ManagementAccount + ":account/" + o.ID + "/" + a.ID,
			"Name":            a.Name,
			"Email":           a.Email,
			"Status":          a.Status,
			"State":           a.Status,
			"JoinedMethod":    joinedMethod(o, a),
			"JoinedTimestamp": float64(a.Joined.UnixMilli()) / 1000,
		})
	}
	out := map[string]any{"Accounts": accounts}
	if end < len(all) {
		out["NextToken"] = encodeOrgToken(all[end-1].ID)
	}
	return out, nil
}

func joinedMethod(o *Organization, a *Account) string {
	if a.ID == o.ManagementAccount {
		return "INVITED"
	}
	return "CREATED"
}

const orgTokenPrefix = "emu-accounts:"

func encodeOrgToken(afterID string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(orgTokenPrefix + afterID))
}

func decodeOrgToken(tok string) (string, bool) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return "", false
	}
	id, ok := strings.CutPrefix(string(b), orgTokenPrefix)
	return id, ok && seedIsAccount(id)
}
