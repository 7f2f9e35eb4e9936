package ec2emu

import (
	"net/http"
	"strconv"
	"strings"
)

// One port serves several AWS APIs. A request is routed by the service name
// of its SigV4 credential scope (Credential=AKID/DATE/REGION/SERVICE/aws4_request,
// in the Authorization header or the X-Amz-Credential query parameter), the
// way AWS's endpoints are separated by host name. An unsigned request is an
// EC2 request (the tests' raw requests, curl).

// Service names of the credential scope.
const (
	serviceEC2           = "ec2"
	serviceSTS           = "sts"
	serviceOrganizations = "organizations"
	serviceImageBuilder  = "imagebuilder"
)

// servedServices lists the credential scope services the emulator serves.
var servedServices = []string{serviceEC2, serviceSTS, serviceOrganizations, serviceImageBuilder}

// caller is who sent a request and where: from the SigV4 credential scope.
type caller struct {
	// accessKeyID is the scope's access key id ("" when unsigned).
	accessKeyID string
	// region is the scope's region (defaultRegion when unsigned).
	region string
	// service is the scope's service name ("" when unsigned).
	service string
	// account is the last 12 characters of the access key id when they are
	// all digits, else the server's default account. Temporary credentials
	// from AssumeRole end in the role's account, so they act as it.
	account string
}

// callerOf reads the credential scope of r.
func (s *Server) callerOf(r *http.Request) caller {
	c := caller{region: defaultRegion, account: s.opts.DefaultAccount}
	cred := ""
	if a := r.Header.Get("Authorization"); a != "" {
		if i := strings.Index(a, "Credential="); i >= 0 {
			cred = a[i+len("Credential="):]
			if j := strings.IndexAny(cred, ", "); j >= 0 {
				cred = cred[:j]
			}
		}
	} else if q := r.URL.Query().Get("X-Amz-Credential"); q != "" {
		cred = q
	}
	if cred == "" {
		return c
	}
	parts := strings.Split(cred, "/")
	c.accessKeyID = parts[0]
	if len(parts) >= 3 && parts[2] != "" {
		c.region = parts[2]
	}
	if len(parts) >= 4 {
		c.service = parts[3]
	}
	c.account = accountFromAccessKey(parts[0], c.account)
	return c
}

// serveService routes an API request by its credential scope's service.
func (s *Server) serveService(w http.ResponseWriter, r *http.Request) {
	w, r = s.withLatency(w, r)
	c := s.callerOf(r)
	switch c.service {
	case "", serviceEC2:
		s.serveAPI(w, r, c)
	case serviceSTS:
		s.serveSTS(w, r, c)
	case serviceOrganizations:
		s.serveOrganizations(w, r, c)
	case serviceImageBuilder:
		s.serveImageBuilder(w, r, c)
	default:
		writeAPIError(w, newRequestID(), &apiError{Status: http.StatusBadRequest, Code: "UnknownService",
			Message: "The emulator does not serve the service " + strconv.Quote(truncateForMsg(c.service)) +
				" of this request's credential scope: it serves " + strings.Join(servedServices, ", ") + "."})
	}
}
