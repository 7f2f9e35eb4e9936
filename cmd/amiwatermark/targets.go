package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
)

// targetFlags are the ways attach and detach are told which AMIs to change:
// REGION:AMI arguments, a Packer manifest, EC2 Image Builder images. They
// may be combined; the AMIs are the union, duplicates dropped.
type targetFlags struct {
	manifest          string
	build             string
	last              bool
	imageBuilder      stringList
	skipOtherAccounts bool
}

// check validates the combination of target flags (before any AWS call).
func (f *targetFlags) check(args []string) error {
	if f.manifest == "" && (f.build != "" || f.last) {
		return usagef("--build and --last select builds of --packer-manifest FILE: give --packer-manifest too")
	}
	if len(f.imageBuilder) == 0 && f.skipOtherAccounts {
		return usagef("--skip-other-accounts applies to the output AMIs of --image-builder-image ARN: give --image-builder-image too")
	}
	if len(args) == 0 && f.manifest == "" && len(f.imageBuilder) == 0 {
		return usagef("no AMI given: name the AMIs as REGION:ami-0123456789abcdef0 arguments (or ami-... with --region), with --packer-manifest FILE, or with --image-builder-image ARN")
	}
	for _, arn := range f.imageBuilder {
		if _, err := parseImageBuildVersionARN(arn); err != nil {
			return err
		}
	}
	return nil
}

// resolved are the AMIs of a run and those named but not attachable.
type resolved struct {
	refs    []amiRef
	foreign []foreignAMI
	// self is the caller's account when it was asked (Image Builder).
	self string
}

// resolveTargets turns the arguments and target flags into AMIs: first the
// arguments, then the manifest's, then each Image Builder image's, in that
// order, without duplicates. AMIs of an Image Builder image that another
// account owns are returned apart (not attachable by this account).
func resolveTargets(ctx context.Context, sess *session, self func(context.Context) (string, error), f *targetFlags, args []string) (*resolved, error) {
	res := &resolved{}
	seen := map[amiRef]bool{}
	add := func(refs []amiRef) {
		for _, r := range refs {
			if !seen[r] {
				seen[r] = true
				res.refs = append(res.refs, r)
			}
		}
	}
	if len(args) > 0 {
		refs, err := parseAMIArgs(args, sess.defaultRegion())
		if err != nil {
			return nil, err
		}
		add(refs)
	}
	if f.manifest != "" {
		refs, err := readManifestTargets(f.manifest, manifestSelection{Build: f.build, Last: f.last})
		if err != nil {
			return nil, err
		}
		add(refs)
	}
	for _, s := range f.imageBuilder {
		arn, err := parseImageBuildVersionARN(s)
		if err != nil {
			return nil, err
		}
		if res.self == "" {
			if res.self, err = self(ctx); err != nil {
				return nil, err
			}
		}
		ib, err := resolveImageBuilder(ctx, sess.cfg, sess.ac.CustomEndpointEc2, arn, res.self)
		if err != nil {
			return nil, err
		}
		add(ib.Own)
		res.foreign = append(res.foreign, ib.Foreign...)
	}
	return res, nil
}

// foreignError refuses a run whose Image Builder image has output AMIs in
// other accounts, unless --skip-other-accounts.
func (r *resolved) foreignError() error {
	var b strings.Builder
	fmt.Fprintf(&b, "nothing was changed: %d output AMI(s) of the Image Builder image are not attachable by this account:", len(r.foreign))
	for _, f := range r.foreign {
		fmt.Fprintf(&b, "\n  - %s %s: %s", f.Region, f.ID, f.problem(r.self))
	}
	if len(r.refs) > 0 {
		fmt.Fprintf(&b, "\nGive --skip-other-accounts to watermark only this account's %d AMI(s) and leave those as they are.", len(r.refs))
	}
	return fmt.Errorf("%s", b.String())
}

// callerAccount returns a function that asks sts:GetCallerIdentity
// (awsconfig.CallerAccount, as the post-processor does) for the caller's
// account id once and then remembers it.
func callerAccount(sess *session) func(context.Context) (string, error) {
	var (
		mu   sync.Mutex
		self string
	)
	return func(ctx context.Context) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		if self != "" {
			return self, nil
		}
		acct, err := sess.ac.CallerAccount(ctx, sess.cfg)
		if err != nil {
			return "", fmt.Errorf("sts:GetCallerIdentity failed (it tells which account the credentials act as): %s", errorText(err))
		}
		self = acct
		return self, nil
	}
}
