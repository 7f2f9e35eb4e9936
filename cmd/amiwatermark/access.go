package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/amiref"
	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/awsconfig"
)

// accessFlags are the AWS access flags every command has. They fill an
// awsconfig.AccessConfig, the same structure the plugin's components use;
// credentials always come from the SDK's default chain (environment
// variables, shared config and credentials files with --profile, SSO,
// container or instance role), never from flags, so that secrets do not end
// up in shell history or CI logs.
type accessFlags struct {
	region     string
	profile    string
	endpoint   string
	maxRetries int
	retriesSet bool
	// requestTimeout bounds one attempt of a call (request_timeout).
	requestTimeout string
}

func (a *accessFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&a.region, "region", "", "AWS region of AMIs given without REGION: (default: AWS_REGION or the profile's region)")
	fs.StringVar(&a.profile, "profile", "", "shared config/credentials profile (default: AWS_PROFILE or \"default\")")
	fs.StringVar(&a.endpoint, "endpoint", "", "EC2 endpoint URL, e.g. a VPC endpoint or the ec2emu emulator (custom_endpoint_ec2)")
	fs.IntVar(&a.maxRetries, "max-retries", awsconfig.DefaultMaxRetries, "retries of a throttled or failed AWS call")
	fs.StringVar(&a.requestTimeout, "request-timeout", "", "time one attempt of an AWS call may take, e.g. 10s; a call fails after at most this × attempts (default "+awsconfig.DefaultRequestTimeout.String()+")")
}

// accessConfig returns the AccessConfig of the flags, validated. fs tells
// whether --max-retries was given.
func (a *accessFlags) accessConfig(fs *flag.FlagSet) (*awsconfig.AccessConfig, error) {
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "max-retries" {
			a.retriesSet = true
		}
	})
	ac := &awsconfig.AccessConfig{
		Region:            a.region,
		Profile:           a.profile,
		CustomEndpointEc2: a.endpoint,
		RequestTimeout:    a.requestTimeout,
	}
	ac.NameTimeoutSetting("--request-timeout")
	if a.retriesSet {
		n := a.maxRetries
		ac.MaxRetries = &n
	}
	if errs := ac.Prepare(); len(errs) > 0 {
		msgs := make([]string, len(errs))
		for i, e := range errs {
			msgs[i] = flagNames(e.Error())
		}
		return nil, usagef("%s", strings.Join(msgs, "; "))
	}
	return ac, nil
}

// flagNames rewrites the template key names of AccessConfig errors into
// the command's flag names.
func flagNames(s string) string {
	if strings.HasPrefix(s, "region ") {
		s = "--" + s
	}
	r := strings.NewReplacer(
		"custom_endpoint_ec2", "--endpoint",
		"max_retries", "--max-retries",
		"request_timeout", "--request-timeout",
		"set region in the template", "give --region",
	)
	return r.Replace(s)
}

// session holds the loaded AWS configuration and one EC2 client per region.
type session struct {
	// clock is EC2's clock, the time rule of every component
	// (awsconfig.Clock): set by the first successful answer.
	clock   *awsconfig.Clock
	ac      *awsconfig.AccessConfig
	cfg     aws.Config
	clients map[string]*ec2.Client
}

func newSession(ctx context.Context, ac *awsconfig.AccessConfig) (*session, error) {
	cfg, err := ac.Config(ctx)
	var missing config.SharedConfigProfileNotExistError
	if errors.As(err, &missing) {
		return nil, usagef("--profile %q: no such profile in the shared config and credentials files; give a profile listed by `aws configure list-profiles`, or leave --profile out to use the default credential chain", missing.Profile)
	}
	if err != nil {
		return nil, err
	}
	clock := &awsconfig.Clock{}
	return &session{clock: clock, ac: ac, cfg: awsconfig.WithClock(cfg, clock), clients: map[string]*ec2.Client{}}, nil
}

// defaultRegion is --region, else the SDK's (AWS_REGION, profile).
func (s *session) defaultRegion() string { return s.cfg.Region }

func (s *session) client(region string) (*ec2.Client, error) {
	if c, ok := s.clients[region]; ok {
		return c, nil
	}
	c, err := s.ac.NewEC2Client(s.cfg, region)
	if err != nil {
		return nil, err
	}
	s.clients[region] = c
	return c, nil
}

// amiRef is one AMI named on the command line.
type amiRef struct {
	Region string
	ID     string
}

func (r amiRef) String() string { return r.Region + " " + r.ID }

// parseAMIArgs reads AMI arguments: ami-ID (in the default region),
// REGION:ami-ID, or a Packer artifact id / manifest artifact_id
// "us-east-1:ami-1,eu-west-1:ami-2" (amiref.ParseList, leniently: empty
// entries skipped, repeats dropped, order kept). An AMI without a region
// when there is no default region is an error.
func parseAMIArgs(args []string, defRegion string) ([]amiRef, error) {
	refs, err := amiref.ParseList(strings.Join(args, ","), amiref.Options{DefaultRegion: defRegion, SkipEmpty: true, DropRepeats: true})
	var e *amiref.Error
	if errors.As(err, &e) {
		switch e.Problem {
		case amiref.EmptyList:
			return nil, usagef("no AMI given: name one or more AMIs as ami-0123456789abcdef0 (with --region) or REGION:ami-0123456789abcdef0")
		case amiref.NoRegion:
			return nil, usagef("no region for %s: give --region, set AWS_REGION, or write REGION:%s", e.Value, e.Value)
		case amiref.BadRegion:
			return nil, usagef("%q: %q is not a region name: write it like us-east-1:ami-0123456789abcdef0", e.Text, e.Value)
		case amiref.BadAMIID:
			return nil, usagef("%q is not an AMI id: write ami- and 8 or 17 lowercase hex digits, optionally prefixed with REGION: (us-east-1:ami-0123456789abcdef0)", e.Text)
		}
		return nil, usagef("%v", err)
	}
	if err != nil {
		return nil, usagef("%v", err)
	}
	out := make([]amiRef, len(refs))
	for i, r := range refs {
		out[i] = amiRef{Region: r.Region, ID: r.ImageID}
	}
	return out, nil
}

// regionsOf returns the regions of refs in first-seen order.
func regionsOf(refs []amiRef) []string {
	var out []string
	seen := map[string]bool{}
	for _, r := range refs {
		if !seen[r.Region] {
			seen[r.Region] = true
			out = append(out, r.Region)
		}
	}
	return out
}

// errorText shortens an AWS SDK error for one output line: the operation
// wrapping stays, newlines go.
func errorText(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}

// callErr explains err, the error of an AWS call, with format and args
// (which quote errorText(err)); the SDK's error stays reachable with
// errors.As (a scope's failure looks for its code).
func callErr(err error, format string, args ...any) error {
	return &awsconfig.TextError{Text: fmt.Sprintf(format, args...), Err: err}
}

// describeErr explains an error of a describe call in region.
func describeErr(region string, err error) error {
	return callErr(err, "describing images in %s: %s", region, errorText(err))
}

// redact replaces every credential the process holds in s (the
// registry of internal/awsconfig: the caller's, every role's, every
// renewal).
func redact(s string) string { return awsconfig.Redact(s) }

// at re-reads --at against EC2's clock once an answer has set it: "now"
// and +/- offsets are measured from EC2's clock, like the data source and
// the post-processor measure ages; an absolute time stays as given.
func (s *session) at(atFlag string, parsed time.Time) time.Time {
	if !s.clock.Known() {
		return parsed
	}
	t, err := parseAt(atFlag, s.clock.Now())
	if err != nil {
		return parsed
	}
	return t
}
