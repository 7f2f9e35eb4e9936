package ec2emu

import (
	"sort"
	"strconv"
	"strings"
)

// Shared pieces of the resources the amazon-ebs builder's flow needs (VPCs,
// subnets, security groups, key pairs, volumes, snapshots): Filter.N
// parsing for them, id generation, tags and the maps in State.
//
// Every such resource belongs to one account in one region and is seen
// only by that account in that region (no sharing is emulated).

// resFilter is one compiled Filter.N of a non-image Describe call.
type resFilter struct {
	name   string
	tagKey string // the Key of tag:Key
	pats   []glob
}

// parseResFilters reads Filter.N.Name / Filter.N.Value.M. known lists the
// filter names of the resource (tag:Key and tag-key are always accepted);
// an unknown name or a filter without values is InvalidParameterValue, as
// for DescribeImages.
func parseResFilters(rq *request, known map[string]bool) ([]resFilter, *apiError) {
	var out []resFilter
	for _, n := range rq.indices("Filter") {
		p := sub("Filter", n)
		name := rq.get(p + ".Name")
		if name == "" {
			return nil, errMissing(p + ".Name")
		}
		f := resFilter{name: name}
		switch {
		case known[name], name == "tag-key", name == "tag-value":
		case strings.HasPrefix(name, "tag:") && len(name) > len("tag:"):
			f.tagKey = name[len("tag:"):]
		default:
			return nil, errBad("InvalidParameterValue", "The filter '%s' is invalid", truncateForMsg(name))
		}
		values := rq.list(p + ".Value")
		if len(values) == 0 {
			return nil, errBad("InvalidParameterValue", "The filter '%s' has no values: give at least one value (Filter.%d.Value.1)", truncateForMsg(name), n)
		}
		for _, v := range values {
			f.pats = append(f.pats, compileGlob(v))
		}
		out = append(out, f)
	}
	return out, nil
}

// matchRes ANDs the filters; within one filter a resource matches when
// any of its values for the filter's name matches any pattern. attr
// returns the resource's values for a filter name.
func matchRes(fs []resFilter, tags map[string]string, attr func(name string) []string) bool {
	for i := range fs {
		f := &fs[i]
		ok := false
		switch {
		case f.tagKey != "":
			v, has := tags[f.tagKey]
			ok = has && globAny(f.pats, v)
		case f.name == "tag-key":
			for k := range tags {
				if globAny(f.pats, k) {
					ok = true
					break
				}
			}
		case f.name == "tag-value":
			for _, v := range tags {
				if globAny(f.pats, v) {
					ok = true
					break
				}
			}
		default:
			for _, v := range attr(f.name) {
				if globAny(f.pats, v) {
					ok = true
					break
				}
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

func one(v string) []string { return []string{v} }

func boolStr(b bool) string { return strconv.FormatBool(b) }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// newResID returns prefix + 17 hex digits, unique among taken ids.
// Callers hold s.mu.
func newResID[T any](s *Server, prefix string, m map[string]T) string {
	return s.nextHexID(prefix, func(id string) bool { _, ok := m[id]; return ok })
}

// ensureEBSMaps creates the record maps of State that are nil (states
// saved before they existed, and fresh ones). Callers hold s.mu.
func (s *Server) ensureEBSMaps() {
	st := s.st
	if st.Vpcs == nil {
		st.Vpcs = map[string]*Vpc{}
	}
	if st.Subnets == nil {
		st.Subnets = map[string]*Subnet{}
	}
	if st.SecurityGroups == nil {
		st.SecurityGroups = map[string]*SecurityGroup{}
	}
	if st.KeyPairs == nil {
		st.KeyPairs = map[string]*KeyPair{}
	}
	if st.Volumes == nil {
		st.Volumes = map[string]*Volume{}
	}
	if st.Snapshots == nil {
		st.Snapshots = map[string]*Snapshot{}
	}
}

// copyTags returns a copy of tags (nil when empty).
func copyTags(tags map[string]string) map[string]string {
	if len(tags) == 0 {
		return nil
	}
	out := make(map[string]string, len(tags))
	for k, v := range tags {
		out[k] = v
	}
	return out
}

// sortedKeys returns the keys of m in order.
func sortedKeys[T any](m map[string]T) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// idsParam reads a list of ids ("prefix.N"), refusing malformed ones with
// the resource's Malformed error.
func (rq *request) idsParam(prefix, idPrefix, malformedCode string) ([]string, *apiError) {
	ids := rq.list(prefix)
	for _, id := range ids {
		if !isResourceID(id, idPrefix) {
			return nil, errBad(malformedCode, "Invalid id: %q (expecting %q)", truncateForMsg(id), idPrefix+"...")
		}
	}
	return ids, nil
}

// notFoundList is the usual "The x ID 'a, b' does not exist" error.
func notFoundList(code, what string, missing []string) *apiError {
	if len(missing) == 1 {
		return errBad(code, "The %s '%s' does not exist", what, missing[0])
	}
	return errBad(code, "The %ss '%s' do not exist", what, strings.Join(missing, ", "))
}

// taggableEBS resolves the tag map of a VPC, subnet, security group, key
// pair, volume or snapshot of the caller (CreateTags/DeleteTags). ok is
// false when id has none of those prefixes.
func (s *Server) taggableEBS(rq *request, id string) (m *map[string]string, ok bool, aerr *apiError) {
	s.ensureEBSMaps()
	if i := strings.IndexByte(id, '-'); i <= 0 || !isResourceID(id, id[:i+1]) {
		return nil, false, nil // malformed: CreateTags answers InvalidID
	}
	switch {
	case strings.HasPrefix(id, "vpc-"):
		v, aerr := s.lookupVpc(rq, id)
		if aerr != nil {
			return nil, true, aerr
		}
		return &v.Tags, true, nil
	case strings.HasPrefix(id, "subnet-"):
		sn, aerr := s.lookupSubnet(rq, id)
		if aerr != nil {
			return nil, true, aerr
		}
		return &sn.Tags, true, nil
	case strings.HasPrefix(id, "sg-"):
		g, aerr := s.lookupGroup(rq, id)
		if aerr != nil {
			return nil, true, aerr
		}
		return &g.Tags, true, nil
	case strings.HasPrefix(id, "key-"):
		k := s.st.KeyPairs[id]
		if k == nil || k.Owner != rq.account || k.Region != rq.region {
			return nil, true, errBad("InvalidKeyPair.NotFound", "The key pair '%s' does not exist", id)
		}
		return &k.Tags, true, nil
	case strings.HasPrefix(id, "vol-"):
		v, aerr := s.lookupVolume(rq, id)
		if aerr != nil {
			return nil, true, aerr
		}
		return &v.Tags, true, nil
	case strings.HasPrefix(id, "snap-"):
		sn, aerr := s.lookupSnapshot(rq, id)
		if aerr != nil {
			return nil, true, aerr
		}
		return &sn.Tags, true, nil
	}
	return nil, false, nil
}

// writeState writes <name><code/><name/></name> for an instance state.
func writeInstanceState(x *xmlOut, name, state string) {
	x.open(name)
	x.elemInt("code", instanceStateCodes[state])
	x.elem("name", state)
	x.close(name)
}

// describeParams reads what the Describe actions of the network and storage
// resources share, in EC2's order of checks: the ids of idParam (each must
// start with prefix, else the malformed code), the filters (names from
// known), MaxResults (not together with ids) and DryRun.
func describeParams(rq *request, idParam, prefix, malformed string, known map[string]bool) ([]string, []resFilter, *apiError) {
	ids, aerr := rq.idsParam(idParam, prefix, malformed)
	if aerr != nil {
		return nil, nil, aerr
	}
	filters, aerr := parseResFilters(rq, known)
	if aerr != nil {
		return nil, nil, aerr
	}
	if aerr := checkMaxResults(rq, len(ids) > 0); aerr != nil {
		return nil, nil, aerr
	}
	if dry, aerr := rq.boolParam("DryRun"); aerr != nil {
		return nil, nil, aerr
	} else if dry {
		return nil, nil, errDryRun()
	}
	return ids, filters, nil
}

// callerResources picks from m the resources visible accepts (the caller's,
// in the request's region): the ids asked for, where any that is not there
// makes a notFoundCode error listing them all, or, without ids, every such
// resource in id order.
func callerResources[T any](m map[string]*T, ids []string, visible func(*T) bool, notFoundCode, what string) ([]*T, *apiError) {
	var list []*T
	if len(ids) > 0 {
		var missing []string
		for _, id := range ids {
			r := m[id]
			if r == nil || !visible(r) {
				missing = append(missing, id)
				continue
			}
			list = append(list, r)
		}
		if len(missing) > 0 {
			return nil, notFoundList(notFoundCode, what, missing)
		}
		return list, nil
	}
	for _, id := range sortedKeys(m) {
		if r := m[id]; visible(r) {
			list = append(list, r)
		}
	}
	return list, nil
}
