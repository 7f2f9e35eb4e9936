package awsconfig

import (
	"context"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/ssocreds"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sso"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// The process-wide registry of credentials: every credential the process
// holds, whenever it was obtained, is registered here before it is used,
// and every output of the plugin and the CLI is redacted with it (Redact,
// RedactWriter). One rule, one place: the aws.Config of every component is
// built by AccessConfig.Config, whose credentials go through
// RegisterCredentials, and so does every role the CLI assumes.
var registry struct {
	mu       sync.Mutex
	seen     map[string]bool
	values   []string
	redactor *Redactor // nil: to build from values
}

// AddSecrets registers credential values: from now on Redact replaces
// them. Values under 4 characters are not credentials and are ignored.
func AddSecrets(values ...string) {
	registry.mu.Lock()
	defer registry.mu.Unlock()
	for _, v := range values {
		if len(v) < minSecretLen || registry.seen[v] {
			continue
		}
		if registry.seen == nil {
			registry.seen = map[string]bool{}
		}
		registry.seen[v] = true
		registry.values = append(registry.values, v)
		registry.redactor = nil
	}
}

// CurrentRedactor is the Redactor of every credential registered so far.
func CurrentRedactor() *Redactor {
	registry.mu.Lock()
	defer registry.mu.Unlock()
	if registry.redactor == nil {
		registry.redactor = NewRedactor(registry.values...)
	}
	return registry.redactor
}

// Redact replaces every credential the process holds (access key ids,
// secret keys, session tokens, SSO and web identity tokens, renewed ones
// included) in s with "[redacted]".
func Redact(s string) string { return CurrentRedactor().String(s) }

// RegisterCredentials returns p behind an aws.CredentialsCache that
// registers every credential p hands out (access key id, secret key,
// session token) before it is used: the first ones and each renewal.
func RegisterCredentials(p aws.CredentialsProvider) aws.CredentialsProvider {
	if p == nil {
		return nil
	}
	return aws.NewCredentialsCache(registering{p})
}

// registering registers what its provider retrieves.
type registering struct{ next aws.CredentialsProvider }

func (r registering) Retrieve(ctx context.Context) (aws.Credentials, error) {
	c, err := r.next.Retrieve(ctx)
	if err == nil {
		AddSecrets(c.AccessKeyID, c.SecretAccessKey, c.SessionToken)
	}
	return c, err
}

// IsCredentialsProvider answers for the wrapped provider (the SDK asks
// whether credentials are anonymous).
func (r registering) IsCredentialsProvider(target aws.CredentialsProvider) bool {
	return aws.IsCredentialsProvider(r.next, target)
}

// registerChainOptions are the SDK's default-chain options that register
// the credentials the chain holds but never hands out: the source
// credentials that sign a role_arn profile's AssumeRole, the SSO access
// token, the web identity token.
func registerChainOptions() []func(*config.LoadOptions) error {
	return []func(*config.LoadOptions) error{
		config.WithAssumeRoleCredentialOptions(func(o *stscreds.AssumeRoleOptions) {
			if c, ok := o.Client.(*sts.Client); ok {
				opts := c.Options()
				opts.Credentials = RegisterCredentials(opts.Credentials)
				o.Client = sts.New(opts)
			}
		}),
		config.WithSSOProviderOptions(func(o *ssocreds.Options) {
			if o.Client != nil {
				o.Client = ssoTokens{o.Client}
			}
		}),
		config.WithWebIdentityRoleCredentialOptions(func(o *stscreds.WebIdentityRoleOptions) {
			if o.TokenRetriever != nil {
				o.TokenRetriever = webIdentityTokens{o.TokenRetriever}
			}
		}),
	}
}

// ssoTokens registers the SSO access token before it is sent.
type ssoTokens struct {
	next ssocreds.GetRoleCredentialsAPIClient
}

func (s ssoTokens) GetRoleCredentials(ctx context.Context, in *sso.GetRoleCredentialsInput, optFns ...func(*sso.Options)) (*sso.GetRoleCredentialsOutput, error) {
	AddSecrets(aws.ToString(in.AccessToken))
	return s.next.GetRoleCredentials(ctx, in, optFns...)
}

// webIdentityTokens registers the web identity token before it is sent.
type webIdentityTokens struct {
	next stscreds.IdentityTokenRetriever
}

func (w webIdentityTokens) GetIdentityToken() ([]byte, error) {
	b, err := w.next.GetIdentityToken()
	if err == nil {
		AddSecrets(string(b))
	}
	return b, err
}
