package orgbench

import "time"

// Model is the P4 model: the emulator's latency model and the shape of the
// organization. The numbers of Base and PerItem are our choice (see
// docs/emulator.md); EC2's token buckets need no number here (a run at the
// floor is never throttled).
type Model struct {
	Base, PerItem time.Duration
	Accounts      int
	Regions       int
	Public        int // public images per region
	Own, Shared   int // per account and region
	Concurrency   int // the CLI's account-regions at once
	PageSize      int // DescribeImages MaxResults
	OrgPageSize   int // ListAccounts accounts per page
}

// call is the model's time of a call returning items.
func (m Model) call(items int) time.Duration {
	return m.Base + time.Duration(items)*m.PerItem
}

// pages splits n items into pages of size (at least one page, possibly
// empty) and returns each page's item count.
func pages(n, size int) []int {
	out := []int{}
	for n > size {
		out = append(out, size)
		n -= size
	}
	return append(out, n)
}

// MinCalls is the minimum number of DescribeImages calls of an org-wide
// simulate: each region's public images read once, then per account and
// region what is not public, its own images and the images shared with it,
// in one read: R × ceil(P/1000) + A × R × ceil((own+shared)/1000).
func (m Model) MinCalls() int {
	return m.Regions*len(pages(m.Public, m.PageSize)) + m.Accounts*m.Regions*len(pages(m.Own+m.Shared, m.PageSize))
}

// Floor is the wall time the model implies for the minimum calls:
// max(the longest public chain of a region, the latency of all minimum
// calls / concurrency) + the ListAccounts pages and the first AssumeRole.
func (m Model) Floor() time.Duration {
	var chain time.Duration
	for _, n := range pages(m.Public, m.PageSize) {
		chain += m.call(n)
	}
	var perScope time.Duration
	for _, n := range pages(m.Own+m.Shared, m.PageSize) {
		perScope += m.call(n)
	}
	total := chain*time.Duration(m.Regions) + perScope*time.Duration(m.Accounts*m.Regions)
	floor := max(chain, total/time.Duration(m.Concurrency))
	for _, n := range pages(m.Accounts, m.OrgPageSize) {
		floor += m.call(n)
	}
	return floor + m.call(0) // the first AssumeRole
}

// FullScanCalls is the DescribeImages calls of today's per-account full
// scan of one account-region: every image it sees, in pages.
func (m Model) FullScanCalls() int {
	return len(pages(m.Public+m.Own+m.Shared, m.PageSize))
}
