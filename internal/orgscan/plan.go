// Package orgscan runs a command in many accounts and regions at once: the
// scopes (one account in one region) of an organization-wide run. It
// lists the accounts (a list, or the organization's), assumes a role in
// each, lists the regions, paces the calls of each account-region on
// throttling, keeps a scope's failure in that scope and stops on
// cancellation. It parses no flags and writes no output: the command line
// (cmd/amiwatermark) wires it, and a program that only needs to act in
// other accounts (the Image Builder function, for the AMIs a pipeline
// distributes) uses New and Env.Config (the role assumed once per account)
// and Env.EC2 without Run.
package orgscan

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// DefaultConcurrency is how many scopes run at once by default. Each scope
// is a chain of dependent calls, so the wall time of a run is about the
// chain time × ceil(scopes / concurrency); 16 keeps each account-region
// far below EC2's request rate limits.
const DefaultConcurrency = 16

// MaxConcurrency bounds Plan.Concurrency.
const MaxConcurrency = 256

// Plan is what a run covers.
type Plan struct {
	// Regions are the regions of every account; nil with AllRegions (each
	// account's enabled regions) or for the configured region.
	Regions    []string
	AllRegions bool
	// Accounts are the accounts; nil with Org (the organization's ACTIVE
	// accounts) or for the caller's account only.
	Accounts []string
	Org      bool
	// RoleName is assumed in every account but the caller's.
	RoleName   string
	ExternalID string
	// Concurrency is how many scopes run at once (1 to MaxConcurrency).
	Concurrency int
	// Shard keeps a part of the accounts; the zero Shard keeps all.
	Shard Shard
}

// Shard I of N keeps the accounts whose position in the ascending list of
// account ids is I-1 modulo N.
type Shard struct{ I, N int }

// ParseShard reads "I/N" (1 <= I <= N).
func ParseShard(s string) (Shard, error) {
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 1 || i > n {
		return Shard{}, fmt.Errorf("%q is not a shard: write I/N with 1 <= I <= N, for example 1/4 for the first of 4 shards", s)
	}
	return Shard{I: i, N: n}, nil
}

// String is I/N, "" for the zero Shard.
func (s Shard) String() string {
	if s.N == 0 {
		return ""
	}
	return fmt.Sprintf("%d/%d", s.I, s.N)
}

// Of returns the shard's accounts of accounts, in ascending order.
func (s Shard) Of(accounts []string) []string {
	sorted := slices.Sorted(slices.Values(accounts))
	if s.N <= 1 {
		return sorted
	}
	var out []string
	for i, a := range sorted {
		if i%s.N == s.I-1 {
			out = append(out, a)
		}
	}
	return out
}
