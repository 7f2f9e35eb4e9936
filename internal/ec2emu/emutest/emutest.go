// Package emutest starts the EC2 emulator in-process for tests and builds
// real aws-sdk-go-v2 clients that talk to it, the way net/http/httptest
// starts an http.Handler. Every client goes through the SDK's full stack
// (signing, retries, (de)serialisation) over HTTP; nothing is faked.
//
//	srv := emutest.NewServer(t, emutest.Options{})
//	c := srv.EC2("eu-west-1", "111122223333")
//
// The emulator takes the caller's account from the last 12 digits of the
// access key id, so a client "for an account" signs with the access key
// AccessKey(account) = "AKIDTEST" + account.
package emutest

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/imagebuilder"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/awsconfig"
	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/ec2emu"
)

// Options configures a Server.
type Options struct {
	// DefaultAccount is the account of access keys that do not end in 12
	// digits; default ec2emu.DefaultAccount.
	DefaultAccount string
	// Now is the emulator's base clock; nil means time.Now.
	Now func() time.Time
	// Seed is applied before the server starts answering; a bad seed fails
	// the test.
	Seed *ec2emu.Seed
	// Emulator holds the other emulator options (pending images, eventual
	// consistency). Its DefaultAccount and Now are overridden by the
	// fields above when those are set.
	Emulator ec2emu.Options
	// Wrap, when set, puts a handler in front of the emulator (to record or
	// alter what goes over the wire); it receives the emulator and returns
	// the handler the server serves.
	Wrap func(http.Handler) http.Handler
	// TLS serves HTTPS with a self-signed certificate (httptest's). The
	// Server's own clients trust it; other clients do not.
	TLS bool
}

// Server is an emulator listening on a loopback port.
type Server struct {
	// URL is the base URL (http://127.0.0.1:PORT), the endpoint of every
	// service the emulator serves.
	URL string
	// Emulator is the emulator itself, for the control methods (SeedImages,
	// SetFaults, AdvanceClock, Stats...).
	Emulator *ec2emu.Server

	ts   *httptest.Server
	http aws.HTTPClient
}

// NewServer starts an emulator and closes it when the test ends.
func NewServer(t testing.TB, o Options) *Server {
	t.Helper()
	eo := o.Emulator
	if o.DefaultAccount != "" {
		eo.DefaultAccount = o.DefaultAccount
	}
	if o.Now != nil {
		eo.Now = o.Now
	}
	emu := ec2emu.New(eo)
	if o.Seed != nil {
		if err := emu.ApplySeed(*o.Seed); err != nil {
			t.Fatalf("emutest: seed: %v", err)
		}
	}
	var h http.Handler = emu
	if o.Wrap != nil {
		h = o.Wrap(emu)
	}
	s := &Server{Emulator: emu, http: HTTPClient()}
	if o.TLS {
		s.ts = httptest.NewTLSServer(h)
		s.http = awsconfig.BufferBody(s.ts.Client())
	} else {
		s.ts = httptest.NewServer(h)
	}
	s.URL = s.ts.URL
	t.Cleanup(s.Close)
	return s
}

// SeedImages seeds images (see ec2emu.Server.SeedImages) and returns their
// ids in order; a bad seed fails the test.
func (s *Server) SeedImages(t testing.TB, imgs ...ec2emu.SeedImage) []string {
	t.Helper()
	ids, err := s.Emulator.SeedImages(imgs)
	if err != nil {
		t.Fatalf("emutest: seeding: %v", err)
	}
	return ids
}

// Close shuts the server down; it may be called more than once.
func (s *Server) Close() { s.ts.Close() }

// AccessKey is the access key id a client for account signs with.
func AccessKey(account string) string { return "AKIDTEST" + account }

// Credentials are static credentials acting as account.
func Credentials(account string) aws.CredentialsProvider {
	return credentials.NewStaticCredentialsProvider(AccessKey(account), "secret", "")
}

// HTTPClient is the SDK's HTTP client behind the request-body guard the
// product uses (awsconfig.BufferBody).
func HTTPClient() aws.HTTPClient { return awsconfig.BufferBody(awshttp.NewBuildableClient()) }

// EC2 is an EC2 client acting as account in region.
func (s *Server) EC2(region, account string, optFns ...func(*ec2.Options)) *ec2.Client {
	return EC2Client(s.URL, region, Credentials(account), append([]func(*ec2.Options){s.ec2HTTP}, optFns...)...)
}

// STS is an STS client acting as account (in region; STS is global, the
// region only signs).
func (s *Server) STS(region, account string, optFns ...func(*sts.Options)) *sts.Client {
	return STSClient(s.URL, region, Credentials(account), append([]func(*sts.Options){func(o *sts.Options) { o.HTTPClient = s.http }}, optFns...)...)
}

// Organizations is an Organizations client acting as account (in region;
// Organizations is global, the region only signs).
func (s *Server) Organizations(region, account string, optFns ...func(*organizations.Options)) *organizations.Client {
	return OrganizationsClient(s.URL, region, Credentials(account), append([]func(*organizations.Options){func(o *organizations.Options) { o.HTTPClient = s.http }}, optFns...)...)
}

// ImageBuilder is an EC2 Image Builder client acting as account in region.
func (s *Server) ImageBuilder(region, account string, optFns ...func(*imagebuilder.Options)) *imagebuilder.Client {
	return ImageBuilderClient(s.URL, region, Credentials(account), append([]func(*imagebuilder.Options){func(o *imagebuilder.Options) { o.HTTPClient = s.http }}, optFns...)...)
}

func (s *Server) ec2HTTP(o *ec2.Options) { o.HTTPClient = s.http }

// EC2Client is an EC2 client for an emulator at url (in-process or the
// ec2emu program) with the given credentials.
func EC2Client(url, region string, creds aws.CredentialsProvider, optFns ...func(*ec2.Options)) *ec2.Client {
	o := ec2.Options{Region: region, BaseEndpoint: aws.String(url), Credentials: creds, HTTPClient: HTTPClient()}
	for _, fn := range optFns {
		fn(&o)
	}
	return ec2.New(o)
}

// STSClient is an STS client for an emulator at url.
func STSClient(url, region string, creds aws.CredentialsProvider, optFns ...func(*sts.Options)) *sts.Client {
	o := sts.Options{Region: region, BaseEndpoint: aws.String(url), Credentials: creds, HTTPClient: HTTPClient()}
	for _, fn := range optFns {
		fn(&o)
	}
	return sts.New(o)
}

// OrganizationsClient is an Organizations client for an emulator at url.
func OrganizationsClient(url, region string, creds aws.CredentialsProvider, optFns ...func(*organizations.Options)) *organizations.Client {
	o := organizations.Options{Region: region, BaseEndpoint: aws.String(url), Credentials: creds, HTTPClient: HTTPClient()}
	for _, fn := range optFns {
		fn(&o)
	}
	return organizations.New(o)
}

// ImageBuilderClient is an EC2 Image Builder client for an emulator at url.
func ImageBuilderClient(url, region string, creds aws.CredentialsProvider, optFns ...func(*imagebuilder.Options)) *imagebuilder.Client {
	o := imagebuilder.Options{Region: region, BaseEndpoint: aws.String(url), Credentials: creds, HTTPClient: HTTPClient()}
	for _, fn := range optFns {
		fn(&o)
	}
	return imagebuilder.New(o)
}
