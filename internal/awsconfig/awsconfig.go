//go:generate go tool packer-sdc mapstructure-to-hcl2 -type AccessConfig,AssumeRoleConfig
//go:generate go tool packer-sdc struct-markdown

// Package awsconfig holds the AWS access configuration shared by the
// amiwatermark post-processor and data source. Its keys are those of
// packer-plugin-amazon, so users can copy a block from an amazon-ebs source.
package awsconfig

import (
	"context"
	"crypto/tls"
	"fmt"
	"log"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/amiref"
)

const (
	// DefaultMaxRetries is the number of retries after the first attempt of
	// every EC2 call when max_retries is not set. EC2 throttles bursts with
	// RequestLimitExceeded; a watermarking run is short and must not lose a
	// build to a burst (Packer deregisters the build's AMIs when the
	// post-processor fails), so the default is generous: 12 attempts.
	// Against the fault suite's mix (30 % throttling and 5 % 5xx on every
	// call, internal/reliability) one call fails all 12 with probability
	// 0.335^12 ≈ 2e-6, so about 1 in 10 000 runs of 8 regions × 3 names.
	DefaultMaxRetries = 11
	// DefaultMaxBackoff caps the delay between two attempts of one call.
	//
	// The SDK's standard retryer waits rand[0,1) × min(base × 2^i,
	// MaxBackoff) before retry i, with base = 1 s for throttling errors
	// (fixed in the SDK) and 50 ms for 5xx and connection errors. A 1 s cap
	// keeps a throttled call's waits at U(0, 1 s) each, so 11 retries span
	// about 5.5 s on average and at most 11 s: long enough for a regional
	// token bucket to refill, short enough that the parallel regions of a
	// run, which wait for the slowest one at each phase, do not stall. A
	// run of 8 regions × 3 names under the suite's faults takes about 4.3 s
	// with it, against about 6.1 s with a 3 s cap (mean of the 10 seeds of
	// internal/reliability, make reliability).
	DefaultMaxBackoff = 1 * time.Second
)

// AssumeRoleConfig lets the plugin assume an IAM role before it calls EC2.
// It has the same keys as the `assume_role` block of packer-plugin-amazon.
type AssumeRoleConfig struct {
	// Amazon Resource Name (ARN) of the IAM Role to assume.
	RoleARN string `mapstructure:"role_arn" required:"false"`
	// Number of seconds to restrict the assume role session duration.
	DurationSeconds int `mapstructure:"duration_seconds" required:"false"`
	// The external ID to use when assuming the role. If omitted, no external
	// ID is passed to the AssumeRole call.
	ExternalID string `mapstructure:"external_id" required:"false"`
	// IAM Policy JSON describing further restricting permissions for the IAM
	// Role being assumed.
	Policy string `mapstructure:"policy" required:"false"`
	// Set of Amazon Resource Names (ARNs) of IAM Policies describing further
	// restricting permissions for the IAM Role being assumed.
	PolicyARNs []string `mapstructure:"policy_arns" required:"false"`
	// Session name to use when assuming the role.
	SessionName string `mapstructure:"session_name" required:"false"`
	// Map of assume role session tags.
	Tags map[string]string `mapstructure:"tags" required:"false"`
}

// AccessConfig is the AWS access configuration of both components.
type AccessConfig struct {
	// The AWS region to use. The post-processor takes each AMI's region from
	// the build artifact and needs `region` only with `image_ids`; the data
	// source searches this region. Defaults to the SDK's default chain
	// (`AWS_REGION`, the shared config profile).
	Region string `mapstructure:"region" required:"false"`
	// The access key used to communicate with AWS. If not set, the SDK's
	// default credential chain is used: environment variables, the shared
	// credentials and config files (including SSO), then the instance or task
	// role.
	AccessKey string `mapstructure:"access_key" required:"false"`
	// The secret key used to communicate with AWS. Required when
	// `access_key` is set.
	SecretKey string `mapstructure:"secret_key" required:"false"`
	// The session token to use with `access_key` and `secret_key` for
	// temporary credentials.
	Token string `mapstructure:"token" required:"false"`
	// The profile to use in the shared credentials and config files.
	Profile string `mapstructure:"profile" required:"false"`
	// Path to a credentials file to load credentials from.
	SharedCredsFile string `mapstructure:"shared_credentials_file" required:"false"`
	// Assume an IAM role before calling EC2. See the `assume_role` block.
	AssumeRole AssumeRoleConfig `mapstructure:"assume_role" required:"false"`
	// An endpoint URL for the EC2 API, for example a VPC endpoint or a local
	// emulator such as `http://127.0.0.1:4566`. Defaults to the regional AWS
	// endpoint.
	CustomEndpointEc2 string `mapstructure:"custom_endpoint_ec2" required:"false"`
	// How many times one EC2 call is retried after a throttling
	// (`RequestLimitExceeded`), server or connection error, with exponential
	// backoff and jitter. Defaults to 11 (12 attempts). Set it to 0 to turn
	// retries off.
	MaxRetries *int `mapstructure:"max_retries" required:"false"`
	// How long one attempt of an AWS call may take, request and answer, as
	// a duration such as `30s` or `2m`. A call is retried after a timeout
	// like after a connection error, and one call never takes longer than
	// `request_timeout` × (`max_retries` + 1) in all, its retries and their
	// backoff included; then it fails with an error that names the
	// endpoint, the action and the timeout. Defaults to `30s`.
	RequestTimeout string `mapstructure:"request_timeout" required:"false"`
	// Do not check the TLS certificate of the EC2 endpoint. Off by default;
	// only for test endpoints with self-signed certificates. A warning is
	// logged when it is on.
	InsecureSkipTLSVerify bool `mapstructure:"insecure_skip_tls_verify" required:"false"`

	// timeoutSetting is how timeout errors name request_timeout ("" is
	// the template key); see NameTimeoutSetting.
	timeoutSetting string
}

// NameTimeoutSetting makes timeout errors name the request timeout as the
// front end calls it, for example "--request-timeout" in the CLI.
func (c *AccessConfig) NameTimeoutSetting(name string) { c.timeoutSetting = name }

// Prepare validates the access configuration. Errors name the key concerned
// and never contain a secret.
func (c *AccessConfig) Prepare() []error {
	var errs []error
	if (c.AccessKey == "") != (c.SecretKey == "") {
		errs = append(errs, fmt.Errorf("access_key and secret_key must be set together: set both, or neither to use the default credential chain"))
	}
	if c.Token != "" && c.AccessKey == "" {
		errs = append(errs, fmt.Errorf("token is set but access_key is not: a session token is only used together with access_key and secret_key"))
	}
	if c.MaxRetries != nil && (*c.MaxRetries < 0 || *c.MaxRetries > 100) {
		errs = append(errs, fmt.Errorf("max_retries is %d: it must be between 0 and 100", *c.MaxRetries))
	}
	if _, err := ParseRequestTimeout(c.RequestTimeout); err != nil {
		errs = append(errs, err)
	}
	if c.CustomEndpointEc2 != "" {
		u, err := url.Parse(c.CustomEndpointEc2)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("custom_endpoint_ec2 %q is not a URL: write it as https://host[:port] or http://host:port", c.CustomEndpointEc2))
		}
	}
	if c.Region != "" && !amiref.ValidRegion(c.Region) {
		errs = append(errs, fmt.Errorf("region %q is not a region name: write it like us-east-1", c.Region))
	}
	ar := c.AssumeRole
	if ar.RoleARN == "" && (ar.SessionName != "" || ar.ExternalID != "" || ar.DurationSeconds != 0 || ar.Policy != "" || len(ar.PolicyARNs) > 0 || len(ar.Tags) > 0) {
		errs = append(errs, fmt.Errorf("assume_role: role_arn is required when the assume_role block is used"))
	}
	if ar.RoleARN != "" && !strings.HasPrefix(ar.RoleARN, "arn:") {
		errs = append(errs, fmt.Errorf("assume_role.role_arn %q is not an ARN: write it as arn:aws:iam::123456789012:role/NAME", ar.RoleARN))
	}
	if ar.DurationSeconds != 0 && (ar.DurationSeconds < 900 || ar.DurationSeconds > 43200) {
		errs = append(errs, fmt.Errorf("assume_role.duration_seconds is %d: it must be between 900 and 43200", ar.DurationSeconds))
	}
	return errs
}

// Secrets returns the configured credential values that must never appear
// in logs, UI output or errors (access key id, secret key, session token),
// for callers that redact messages which may quote a server's answer.
func (c *AccessConfig) Secrets() []string {
	var out []string
	for _, s := range []string{c.AccessKey, c.SecretKey, c.Token} {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// Redact replaces in s with "[redacted]" every credential the process
// holds: the configured ones and every one the SDK obtained, whenever it
// obtained it (the process-wide registry, see Redact).
func (c *AccessConfig) Redact(s string) string {
	AddSecrets(c.Secrets()...)
	return Redact(s)
}

// RetryMaxAttempts is the number of attempts one EC2 call makes.
func (c *AccessConfig) RetryMaxAttempts() int {
	if c.MaxRetries != nil {
		return *c.MaxRetries + 1
	}
	return DefaultMaxRetries + 1
}

// insecureClient is an HTTP client that does not check TLS certificates
// (insecure_skip_tls_verify).
func insecureClient() *awshttp.BuildableClient {
	return awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
		if t.TLSClientConfig == nil {
			t.TLSClientConfig = &tls.Config{}
		}
		t.TLSClientConfig.InsecureSkipVerify = true
	})
}

// Config returns the aws.Config (credentials, retryer, HTTP client) of the
// access configuration. Build it once per run and derive clients from it with
// NewEC2Client.
func (c *AccessConfig) Config(ctx context.Context) (aws.Config, error) {
	attempts := c.RetryMaxAttempts()
	opts := []func(*config.LoadOptions) error{
		config.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = attempts
				o.MaxBackoff = DefaultMaxBackoff
				// One build issues few calls; the client-side retry quota
				// would turn a throttling burst into a failed build.
				o.RateLimiter = ratelimit.None
			})
		}),
	}
	opts = append(opts, registerChainOptions()...)
	AddSecrets(c.Secrets()...)
	if c.Region != "" {
		opts = append(opts, config.WithRegion(c.Region))
	}
	if c.Profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(c.Profile))
	}
	if c.SharedCredsFile != "" {
		opts = append(opts, config.WithSharedCredentialsFiles([]string{c.SharedCredsFile}))
	}
	if c.AccessKey != "" {
		opts = append(opts, config.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(c.AccessKey, c.SecretKey, c.Token)))
	}
	if c.InsecureSkipTLSVerify {
		log.Printf("[WARN] amiwatermark: insecure_skip_tls_verify is on: the TLS certificate of the EC2 endpoint is not checked; use this only against test endpoints")
		opts = append(opts, config.WithHTTPClient(insecureClient()))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("loading AWS configuration: %w", err)
	}
	// Every credential the chain hands out, renewals included, is
	// registered for redaction before it signs a request.
	cfg.Credentials = RegisterCredentials(cfg.Credentials)
	// Wrapped after loading, so that the loader can still apply a custom CA
	// bundle to the buildable client.
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = awshttp.NewBuildableClient()
	}
	timeout, err := ParseRequestTimeout(c.RequestTimeout)
	if err != nil {
		return aws.Config{}, err
	}
	cfg.HTTPClient = BufferBody(timeoutClient{next: cfg.HTTPClient, d: timeout, attempts: attempts, setting: c.timeoutSetting})
	cfg.APIOptions = append(cfg.APIOptions, callDeadline(timeout, attempts, c.timeoutSetting))
	if ar := c.AssumeRole; ar.RoleARN != "" {
		provider := stscreds.NewAssumeRoleProvider(sts.NewFromConfig(cfg), ar.RoleARN, func(o *stscreds.AssumeRoleOptions) {
			if ar.SessionName != "" {
				o.RoleSessionName = ar.SessionName
			}
			if ar.ExternalID != "" {
				o.ExternalID = aws.String(ar.ExternalID)
			}
			if ar.DurationSeconds != 0 {
				o.Duration = time.Duration(ar.DurationSeconds) * time.Second
			}
			if ar.Policy != "" {
				o.Policy = aws.String(ar.Policy)
			}
			for _, arn := range ar.PolicyARNs {
				o.PolicyARNs = append(o.PolicyARNs, ststypes.PolicyDescriptorType{Arn: aws.String(arn)})
			}
			for k, v := range ar.Tags {
				o.Tags = append(o.Tags, ststypes.Tag{Key: aws.String(k), Value: aws.String(v)})
			}
		})
		cfg.Credentials = RegisterCredentials(provider)
	}
	return cfg, nil
}

// CallerAccount returns the 12-digit account of the credentials with
// sts:GetCallerIdentity (allowed to every principal, no IAM permission
// needed). With custom_endpoint_ec2 set, STS is asked at the same endpoint
// (an emulator serves every service on one port).
func (c *AccessConfig) CallerAccount(ctx context.Context, cfg aws.Config) (string, error) {
	client := sts.NewFromConfig(cfg, func(o *sts.Options) {
		if c.CustomEndpointEc2 != "" {
			o.BaseEndpoint = aws.String(c.CustomEndpointEc2)
		}
	})
	out, err := client.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return "", err
	}
	return aws.ToString(out.Account), nil
}

// NewEC2Client returns an EC2 client for region ("" means the configured or
// default region) from cfg (see Config), pointed at custom_endpoint_ec2 when
// it is set.
func (c *AccessConfig) NewEC2Client(cfg aws.Config, region string) (*ec2.Client, error) {
	if region == "" {
		region = cfg.Region
	}
	if region == "" {
		return nil, fmt.Errorf("no AWS region: set region in the template or AWS_REGION in the environment")
	}
	return ec2.NewFromConfig(cfg, func(o *ec2.Options) {
		o.Region = region
		if c.CustomEndpointEc2 != "" {
			o.BaseEndpoint = aws.String(c.CustomEndpointEc2)
		}
	}), nil
}
