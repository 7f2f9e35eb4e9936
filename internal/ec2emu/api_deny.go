package ec2emu

// Denied actions: a seeded account's deny_actions stand for a service
// control policy (or an IAM policy) that denies EC2 actions to every caller
// of the account, such as the recommended SCP denying
// ec2:DetachImageWatermark in build accounts. The emulator keeps its own
// rule (docs/ec2-semantics.md, "Denied actions").

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// seedDenyActions checks deny_actions: each an EC2 action written as IAM
// writes it, "ec2:ActionName"; returned sorted without duplicates.
func seedDenyActions(in []string) ([]string, error) {
	out := make([]string, 0, len(in))
	for i, a := range in {
		name, ok := strings.CutPrefix(a, "ec2:")
		if !ok || name == "" || strings.Trim(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") != "" {
			return nil, fmt.Errorf("deny_actions[%d] %q is not an EC2 action: write it as IAM does, for example ec2:DetachImageWatermark", i, truncateForMsg(a))
		}
		if !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	if len(out) == 0 {
		return nil, nil
	}
	slices.Sort(out)
	return out, nil
}

// actionDenied answers 403 UnauthorizedOperation when the caller's account
// denies the action, before any other check and whether DryRun is set or
// not (EC2: "If you have the required permissions, the error response is
// DryRunOperation. Otherwise, it is UnauthorizedOperation.").
func (s *Server) actionDenied(account, action string) *apiError {
	if action == "" {
		return nil
	}
	s.mu.RLock()
	a := s.st.Accounts[account]
	denied := a != nil && slices.Contains(a.DenyActions, "ec2:"+action)
	s.mu.RUnlock()
	if !denied {
		return nil
	}
	return &apiError{Status: http.StatusForbidden, Code: "UnauthorizedOperation",
		Message: fmt.Sprintf("You are not authorized to perform this operation. User: arn:aws:sts::%s:assumed-role/emulator/caller is not authorized to perform: ec2:%s with an explicit deny in a service control policy", account, truncateForMsg(action))}
}
