package orgscan

import (
	"strings"
	"testing"
	"time"
)

func TestPartitionOf(t *testing.T) {
	for arn, want := range map[string]string{
		"arn:aws:iam::111122223333:user/alice":                 "aws",
		"arn:aws-us-gov:sts::111122223333:assumed-role/R/s":    "aws-us-gov",
		"arn:aws-cn:iam::111122223333:root":                    "aws-cn",
		"arn:aws-iso-b:sts::111122223333:assumed-role/Role/s1": "aws-iso-b",
	} {
		got, err := partitionOf(arn)
		if err != nil || got != want {
			t.Errorf("partitionOf(%q) = %q, %v; want %q", arn, got, err, want)
		}
	}
	for _, bad := range []string{"", "arn", "arn::iam", "urn:aws:iam::1:root"} {
		if _, err := partitionOf(bad); err == nil {
			t.Errorf("partitionOf(%q) succeeded", bad)
		}
	}
}

func TestPacerAIMD(t *testing.T) {
	now := time.Unix(0, 0)
	p := newPacer(func() time.Time { return now })
	// Full rate: attempts 1/20 s apart.
	if d := p.reserve(); d != 0 {
		t.Errorf("first reserve waits %v", d)
	}
	if d := p.reserve(); d != 50*time.Millisecond {
		t.Errorf("second reserve waits %v, want 50ms", d)
	}
	// Throttling halves the rate each time, down to the floor.
	for i := 0; i < 10; i++ {
		p.observe(true)
	}
	if r := p.currentRate(); r != pacerMinRate {
		t.Errorf("rate after 10 throttles = %v, want %v", r, pacerMinRate)
	}
	now = now.Add(time.Hour)
	p.reserve()
	if d := p.reserve(); d != 2*time.Second {
		t.Errorf("throttled spacing = %v, want 2s", d)
	}
	// Successes climb back additively to the ceiling.
	for i := 0; i < 100; i++ {
		p.observe(false)
	}
	if r := p.currentRate(); r != PacerMaxRate {
		t.Errorf("rate after successes = %v, want %v", r, PacerMaxRate)
	}
	// Pacers are per account and region.
	l := newLimiters()
	if l.get("111122223333", "us-east-1") == l.get("111122223333", "eu-west-1") || l.get("111122223333", "us-east-1") == l.get("444455556666", "us-east-1") {
		t.Error("account-regions share a pacer")
	}
	if l.get("111122223333", "us-east-1") != l.get("111122223333", "us-east-1") {
		t.Error("one account-region has two pacers")
	}
}

func TestShard(t *testing.T) {
	accts := []string{"500000000005", "100000000001", "300000000003", "200000000002", "400000000004"}
	for _, c := range []struct {
		s    Shard
		want string
	}{
		{Shard{1, 2}, "100000000001,300000000003,500000000005"},
		{Shard{2, 2}, "200000000002,400000000004"},
		{Shard{3, 3}, "300000000003"},
		{Shard{1, 1}, "100000000001,200000000002,300000000003,400000000004,500000000005"},
		{Shard{6, 6}, ""},
	} {
		if got := strings.Join(c.s.Of(accts), ","); got != c.want {
			t.Errorf("shard %v = %s, want %s", c.s, got, c.want)
		}
	}
	// The shards of N partition the accounts.
	seen := map[string]int{}
	for i := 1; i <= 3; i++ {
		for _, a := range (Shard{i, 3}).Of(accts) {
			seen[a]++
		}
	}
	if len(seen) != len(accts) {
		t.Errorf("3 shards cover %d of %d accounts", len(seen), len(accts))
	}
	for a, n := range seen {
		if n != 1 {
			t.Errorf("%s in %d shards", a, n)
		}
	}
}

func TestParseShard(t *testing.T) {
	for in, want := range map[string]Shard{"1/3": {1, 3}, "3/3": {3, 3}, "1/1": {1, 1}} {
		if got, err := ParseShard(in); err != nil || got != want {
			t.Errorf("ParseShard(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"0/3", "4/3", "x/y", "1/0", "", "1", "1/", "/3", "-1/3", "1/3/4", " 1/3"} {
		if _, err := ParseShard(bad); err == nil || !strings.Contains(err.Error(), "is not a shard") {
			t.Errorf("ParseShard(%q): err = %v, want a refusal", bad, err)
		}
	}
}
