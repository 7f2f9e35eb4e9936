package report

import (
	"fmt"
	"slices"
	"strings"
)

// Phrase renders a scope's (or the run's) counts as one phrase, in the
// words of the command. The keys say which parts the command has
// (simulate --in-use, --compare-current).
func Phrase(command string, keys []string, c map[string]int) string {
	switch command {
	case "simulate":
		s := fmt.Sprintf("%d images: %d allowed (%d own), %d blocked", c["images"], c["allowed"], c["own"], c["blocked"])
		if slices.Contains(keys, "in_use_amis") {
			s += fmt.Sprintf("; in use: %d AMIs on %d instances, %d blocked (%d instances), %d not visible",
				c["in_use_amis"], c["in_use_instances"], c["in_use_blocked_amis"], c["blocked_instances"], c["in_use_not_visible"])
		}
		if slices.Contains(keys, "newly_blocked") {
			s += fmt.Sprintf("; against the current criteria: %d newly blocked, %d newly allowed", c["newly_blocked"], c["newly_allowed"])
		}
		return s
	case "inspect":
		return fmt.Sprintf("%d AMIs: %d allowed, %d not allowed, %d unknown (Allowed AMIs disabled), %d not found",
			c["amis"], c["allowed"], c["not_allowed"], c["unknown"], c["not_found"])
	case "verify":
		return fmt.Sprintf("%d AMIs: %d ok, %d failed", c["amis"], c["ok"], c["failed"])
	}
	return countsText(c)
}

// countsText is a count map as k=n, k=n by count.
func countsText(m map[string]int) string {
	parts := []string{}
	for _, e := range SortedCounts(m) {
		parts = append(parts, fmt.Sprintf("%s=%d", e.K, e.N))
	}
	return strings.Join(parts, ", ")
}

// BlockedOwners counts the blocked image rows of a scope per owner.
func BlockedOwners(sc *Scope) (map[string]int, error) {
	m := map[string]int{}
	if sc.Status != StatusOK || sc.Rows == nil {
		return m, nil
	}
	err := sc.Rows(func(r Row) error {
		if r.Blocked && r.Kind == "image" {
			m[r.OwnerKey()]++
		}
		return nil
	})
	return m, err
}
