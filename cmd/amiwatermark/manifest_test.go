package main

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/amiref"
)

// A manifest as Packer 1.9's manifest post-processor writes it after two
// runs of a template with an amazon-ebs source "app" (two regions) and a
// null source "smoke", then one run of only "app".
const twoRunManifest = `{
  "builds": [
    {"name": "app", "builder_type": "amazon-ebs", "build_time": 1764300000, "files": null,
     "artifact_id": "us-east-1:ami-0aaaaaaaaaaaaaaa1,eu-west-1:ami-0bbbbbbbbbbbbbbb2",
     "packer_run_uuid": "run-1", "custom_data": null},
    {"name": "smoke", "builder_type": "null", "build_time": 1764300001, "files": null,
     "artifact_id": "Null", "packer_run_uuid": "run-1", "custom_data": null},
    {"name": "app", "builder_type": "amazon-ebs", "build_time": 1764390000, "files": null,
     "artifact_id": "us-east-1:ami-0ccccccccccccccc3,eu-west-1:ami-0ddddddddddddddd4",
     "packer_run_uuid": "run-2", "custom_data": {"git": "abc"}}
  ],
  "last_run_uuid": "run-2"
}`

func TestManifestTargets(t *testing.T) {
	refs := func(pairs ...string) []amiRef {
		var out []amiRef
		for _, p := range pairs {
			r, id, _ := strings.Cut(p, ":")
			out = append(out, amiRef{Region: r, ID: id})
		}
		return out
	}
	oneRun := `{"builds":[{"name":"app","builder_type":"amazon-ebs","artifact_id":"us-east-1:ami-0aaaaaaaaaaaaaaa1","packer_run_uuid":"u"},
	                      {"name":"web","builder_type":"amazon-ebs","artifact_id":"eu-west-1:ami-0bbbbbbbbbbbbbbb2, us-east-1:ami-0aaaaaaaaaaaaaaa1","packer_run_uuid":"u"}],
	            "last_run_uuid":"u"}`
	tests := []struct {
		name    string
		data    string
		sel     manifestSelection
		want    []amiRef
		wantErr string
	}{
		{name: "last run", data: twoRunManifest, sel: manifestSelection{Last: true},
			want: refs("us-east-1:ami-0ccccccccccccccc3", "eu-west-1:ami-0ddddddddddddddd4")},
		{name: "last run by name", data: twoRunManifest, sel: manifestSelection{Last: true, Build: "app"},
			want: refs("us-east-1:ami-0ccccccccccccccc3", "eu-west-1:ami-0ddddddddddddddd4")},
		{name: "builder_type.name form", data: twoRunManifest, sel: manifestSelection{Last: true, Build: "amazon-ebs.app"},
			want: refs("us-east-1:ami-0ccccccccccccccc3", "eu-west-1:ami-0ddddddddddddddd4")},
		{name: "several runs without --last", data: twoRunManifest, sel: manifestSelection{Build: "app"},
			wantErr: `build "app" (amazon-ebs) appears 2 times (one entry per ` + "`packer build`" + ` run): give --last`},
		{name: "everything: null build refused", data: twoRunManifest,
			wantErr: `build "app" (amazon-ebs) appears 2 times`},
		{name: "null build selected", data: twoRunManifest, sel: manifestSelection{Build: "smoke"},
			wantErr: `build "smoke" (null): its artifact is not a list of Amazon AMIs (REGION:ami-...): artifact id "Null": entry 1 "Null" has no region`},
		{name: "unknown build", data: twoRunManifest, sel: manifestSelection{Build: "db", Last: true},
			wantErr: `--build "db": no build of that name in the last run of the manifest; its builds are "app" (amazon-ebs)`},
		{name: "unknown build, all runs", data: twoRunManifest, sel: manifestSelection{Build: "db"},
			wantErr: `--build "db": no build of that name in the manifest; its builds are "app" (amazon-ebs), "smoke" (null)`},
		{name: "one run, all builds, duplicates dropped", data: oneRun,
			want: refs("us-east-1:ami-0aaaaaaaaaaaaaaa1", "eu-west-1:ami-0bbbbbbbbbbbbbbb2")},
		{name: "one run, one build", data: oneRun, sel: manifestSelection{Build: "web"},
			want: refs("eu-west-1:ami-0bbbbbbbbbbbbbbb2", "us-east-1:ami-0aaaaaaaaaaaaaaa1")},
		{name: "mixed builders need --build", data: `{"builds":[
			{"name":"app","builder_type":"amazon-ebs","artifact_id":"us-east-1:ami-0aaaaaaaaaaaaaaa1","packer_run_uuid":"u"},
			{"name":"img","builder_type":"docker","artifact_id":"sha256:0123","packer_run_uuid":"u"}],"last_run_uuid":"u"}`,
			wantErr: `build "img" (docker): its artifact is not a list of Amazon AMIs (REGION:ami-...): artifact id "sha256:0123": entry 1: "sha256" is not a region name (expected REGION:AMI_ID, for example us-east-1:ami-0123456789abcdef0); select the Amazon builds with --build NAME`},
		{name: "empty artifact", data: `{"builds":[{"name":"app","builder_type":"amazon-ebs","artifact_id":"","packer_run_uuid":"u"}],"last_run_uuid":"u"}`,
			wantErr: `build "app" (amazon-ebs) has an empty artifact_id: it produced no AMI`},
		{name: "no builds", data: `{"builds":[],"last_run_uuid":""}`,
			wantErr: "the manifest has no builds: run `packer build` with a `post-processor \"manifest\"` first"},
		{name: "no last_run_uuid", data: `{"builds":[{"name":"app","artifact_id":"us-east-1:ami-0aaaaaaaaaaaaaaa1"}]}`, sel: manifestSelection{Last: true},
			wantErr: "--last: the manifest has no last_run_uuid"},
		{name: "last_run_uuid matches nothing", data: `{"builds":[{"name":"app","artifact_id":"us-east-1:ami-0aaaaaaaaaaaaaaa1","packer_run_uuid":"a"}],"last_run_uuid":"b"}`, sel: manifestSelection{Last: true},
			wantErr: `--last: no build has packer_run_uuid "b" (last_run_uuid)`},
		{name: "no name, no last run: still fine once", data: `{"builds":[{"artifact_id":"us-east-1:ami-0aaaaaaaaaaaaaaa1"}]}`,
			want: refs("us-east-1:ami-0aaaaaaaaaaaaaaa1")},
		{name: "bad AMI id", data: `{"builds":[{"name":"app","builder_type":"amazon-ebs","artifact_id":"us-east-1:ami-XYZ"}]}`,
			wantErr: `build "app" (amazon-ebs): its artifact is not a list of Amazon AMIs (REGION:ami-...): artifact id "us-east-1:ami-XYZ": entry 1: "ami-XYZ" is not an AMI id`},
		{name: "not JSON", data: `builds: []`, wantErr: "not a Packer manifest (JSON with a \"builds\" list"},
		{name: "wrong shape", data: `{"builds": {"name": "app"}}`, wantErr: "not a Packer manifest"},
		{name: "trailing text", data: `{"builds":[]} {}`, wantErr: "not a Packer manifest: text follows the JSON document"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := manifestTargets([]byte(tt.data), tt.sel)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("manifestTargets = %v, %v; want error containing %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("manifestTargets = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func TestReadManifestTargetsUsageErrors(t *testing.T) {
	_, err := readManifestTargets(t.TempDir()+"/missing.json", manifestSelection{})
	var ue *usageError
	if err == nil || !errors.As(err, &ue) || !strings.Contains(err.Error(), "--packer-manifest: cannot read the manifest") {
		t.Fatalf("missing file: %v, want a usage error", err)
	}
	p := writeFile(t, "packer-manifest.json", `{"builds":[]}`)
	_, err = readManifestTargets(p, manifestSelection{})
	if err == nil || !errors.As(err, &ue) || !strings.Contains(err.Error(), "--packer-manifest "+p+": the manifest has no builds") {
		t.Fatalf("empty manifest: %v, want a usage error naming the file", err)
	}
}

// A manifest larger than 64 MiB (here a sparse file of 1 GiB) is refused
// with a usage error after reading at most 64 MiB of it.
func TestReadManifestTargetsBoundedSize(t *testing.T) {
	p := filepath.Join(t.TempDir(), "packer-manifest.json")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(1 << 30); err != nil {
		t.Fatal(err)
	}
	f.Close()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err = readManifestTargets(p, manifestSelection{})
	runtime.ReadMemStats(&after)
	var ue *usageError
	if err == nil || !errors.As(err, &ue) || !strings.Contains(err.Error(), "larger than 64 MiB") {
		t.Fatalf("1 GiB manifest: %v, want a usage error saying it is too large", err)
	}
	if grown := after.TotalAlloc - before.TotalAlloc; grown > 200<<20 {
		t.Errorf("reading a 1 GiB manifest allocated %d MiB", grown>>20)
	}
}

// FuzzManifestTargets: any input gives either an error or a non-empty list
// of distinct, well-formed AMIs in named regions; never a panic.
func FuzzManifestTargets(f *testing.F) {
	f.Add([]byte(twoRunManifest), "", true)
	f.Add([]byte(twoRunManifest), "app", false)
	f.Add([]byte(`{"builds":[{"name":"a","artifact_id":"us-east-1:ami-0aaaaaaaaaaaaaaa1,,"}]}`), "a", false)
	f.Add([]byte(`{"builds":[{"name":"a","artifact_id":"us-east-1:ami-12345678"}],"last_run_uuid":""}`), "", false)
	f.Add([]byte(`null`), "x", true)
	f.Fuzz(func(t *testing.T, data []byte, build string, last bool) {
		refs, err := manifestTargets(data, manifestSelection{Build: build, Last: last})
		if err != nil {
			if refs != nil {
				t.Fatalf("error %v with targets %v", err, refs)
			}
			return
		}
		if len(refs) == 0 {
			t.Fatal("no error and no targets")
		}
		seen := map[amiRef]bool{}
		for _, r := range refs {
			if _, err := amiref.ParseList(r.Region+":"+r.ID, amiref.Options{}); err != nil {
				t.Fatalf("malformed target %+v", r)
			}
			if seen[r] {
				t.Fatalf("duplicate target %+v", r)
			}
			seen[r] = true
		}
	})
}
