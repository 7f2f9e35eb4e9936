package main

import (
	"reflect"
	"strings"
	"testing"
)

func TestMainDispatch(t *testing.T) {
	tests := []struct {
		args       []string
		code       int
		out, errOu string
	}{
		{nil, 2, "", "Usage:\n  amiwatermark inspect"},
		{[]string{"help"}, 0, "amiwatermark verify   [flags]", ""},
		{[]string{"--help"}, 0, "Exit codes: 0 success, 1 a requirement failed or an AWS call failed, 2 usage error.", ""},
		{[]string{"help", "verify"}, 0, "Usage: amiwatermark verify", ""},
		{[]string{"help", "nope"}, 2, "", `unknown command "nope"`},
		{[]string{"verify", "-h"}, 0, "-require-key value", ""},
		{[]string{"simulate", "--help"}, 0, "Every image the account can see", ""},
		{[]string{"inspect", "-h"}, 0, "attached here  the watermark was attached to this AMI", ""},
		{[]string{"frobnicate"}, 2, "", `amiwatermark: unknown command "frobnicate"`},
		{[]string{"version"}, 0, "amiwatermark 0.", ""},
	}
	for _, tt := range tests {
		code, out, errOut := runCLI(tt.args...)
		if code != tt.code || !strings.Contains(out, tt.out) || !strings.Contains(errOut, tt.errOu) {
			t.Errorf("run(%q) = %d\nstdout:\n%s\nstderr:\n%s\nwant %d, stdout containing %q, stderr containing %q", tt.args, code, out, errOut, tt.code, tt.out, tt.errOu)
		}
	}
}

func TestParseInterleaved(t *testing.T) {
	tests := []struct {
		args     []string
		wantPos  []string
		wantKeys []string
		wantJSON bool
	}{
		{[]string{"a", "--k", "x", "b"}, []string{"a", "b"}, []string{"x"}, false},
		{[]string{"--json", "a", "--k=y", "--k", "z,w"}, []string{"a"}, []string{"y", "z", "w"}, true},
		{[]string{"a", "--", "--json", "-k"}, []string{"a", "--json", "-k"}, nil, false},
		{[]string{}, nil, nil, false},
	}
	for _, tt := range tests {
		fs := newFlagSet("t", "", &strings.Builder{})
		var keys stringList
		js := fs.Bool("json", false, "")
		fs.Var(&keys, "k", "")
		pos, err := parseInterleaved(fs, tt.args)
		if err != nil || !reflect.DeepEqual(pos, tt.wantPos) || !reflect.DeepEqual([]string(keys), tt.wantKeys) || *js != tt.wantJSON {
			t.Errorf("parseInterleaved(%q) = %q, keys %q, json %v, err %v; want %q %q %v", tt.args, pos, keys, *js, err, tt.wantPos, tt.wantKeys, tt.wantJSON)
		}
	}
}

func TestParseAMIArgs(t *testing.T) {
	tests := []struct {
		args    []string
		def     string
		want    []amiRef
		wantErr string
	}{
		{[]string{"ami-0123abcd"}, "us-east-1", []amiRef{{"us-east-1", "ami-0123abcd"}}, ""},
		{[]string{"eu-west-1:ami-0123456789abcdef0"}, "", []amiRef{{"eu-west-1", "ami-0123456789abcdef0"}}, ""},
		{[]string{"us-east-1:ami-0123abcd,eu-west-1:ami-0123abcd", "ami-0123abcd"}, "us-east-1",
			[]amiRef{{"us-east-1", "ami-0123abcd"}, {"eu-west-1", "ami-0123abcd"}}, ""}, // duplicate dropped
		{[]string{"us-gov-west-1:ami-0123abcd"}, "", []amiRef{{"us-gov-west-1", "ami-0123abcd"}}, ""},
		{nil, "us-east-1", nil, "no AMI given"},
		{[]string{","}, "us-east-1", nil, "no AMI given"},
		{[]string{"ami-0123ABCD"}, "us-east-1", nil, `"ami-0123ABCD" is not an AMI id`},
		{[]string{"ami-0123abc"}, "us-east-1", nil, "is not an AMI id"},
		{[]string{"i-0123abcd"}, "us-east-1", nil, "is not an AMI id"},
		{[]string{"ami-0123abcd"}, "", nil, "no region for ami-0123abcd"},
		{[]string{":ami-0123abcd"}, "us-east-1", nil, `"" is not a region name`},
		{[]string{"us-east-1:ami-0123abcd:x"}, "", nil, "is not an AMI id"},
	}
	for _, tt := range tests {
		got, err := parseAMIArgs(tt.args, tt.def)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("parseAMIArgs(%q) = %v, %v; want error %q", tt.args, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("parseAMIArgs(%q) = %v, %v; want %v", tt.args, got, err, tt.want)
		}
	}
}
