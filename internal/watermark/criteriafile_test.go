package watermark

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

func writeFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "criteria.json")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// allocated runs f and returns the bytes it allocated.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestReadCriteriaFileBounded: deep nesting and oversized files are refused
// at once, in memory bounded by the file size limit (the 80 KB nested file
// took about 4 GB before).
func TestReadCriteriaFileBounded(t *testing.T) {
	deep := writeFile(t, strings.Repeat("[", 40000)+strings.Repeat("]", 40000))
	deepObj := writeFile(t, `{"ec2_attributes":`+strings.Repeat(`{"a":`, 40)+`1`+strings.Repeat("}", 40)+`}`)
	big := filepath.Join(t.TempDir(), "big.json")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("["); err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(1 << 30); err != nil { // a sparse 1 GiB file
		t.Fatal(err)
	}
	f.Close()
	tests := []struct {
		name, path, want string
	}{
		{"deep arrays", deep, "the JSON is nested more than 32 levels deep"},
		{"deep policy", deepObj, "the JSON is nested more than 32 levels deep"},
		{"1 GiB", big, "the file is larger than 1048576 bytes (1 MiB)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			n := allocated(func() { _, err = ReadCriteriaFile(tt.path) })
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want %q", err, tt.want)
			}
			if n > 8<<20 {
				t.Fatalf("reading allocated %d bytes, want at most 8 MiB", n)
			}
		})
	}
}

// TestReadCriteriaFileShape: nothing may follow the JSON value, and the
// value must be a list or an object (null is not an empty list).
func TestReadCriteriaFileShape(t *testing.T) {
	crit := `[{"ImageProviders":["amazon"]}]`
	tests := []struct {
		name, content, want string
	}{
		{"closing garbage", crit + `]]]}}}garbage`, `unexpected text after the JSON value at byte 32 ("]]]}}}garbage")`},
		{"second list", crit + `,[{"ImageProviders":["none"]}]`, `unexpected text after the JSON value at byte 32 (",[{\"ImageProviders\":"...)`},
		{"binary", crit + "\n\x00\x01\xff", `unexpected text after the JSON value at byte 33 ("\x00\x01\xff")`},
		{"second object", `{"ImageCriteria":[]} {}`, `unexpected text after the JSON value at byte 22`},
		{"null", `null`, `the JSON is null, not a list of criteria or an object`},
		{"string", `"amazon"`, `the JSON is a string, not a list of criteria`},
		{"number", `12`, `the JSON is a number, not a list of criteria`},
		{"unclosed", `[{"ImageProviders":["amazon"]}`, `the JSON ends too early`},
		{"policy garbage", `{"ec2_attributes":{"allowed_images_settings":{"state":"enabled"}}}x`, `unexpected text after the JSON value`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadCriteriaFile(writeFile(t, tt.content))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want %q", err, tt.want)
			}
		})
	}
	if c, err := ReadCriteriaFile(writeFile(t, "\n"+crit+"\n\t \n")); err != nil || len(c) != 1 {
		t.Fatalf("white space around the value: %v %v", c, err)
	}
	_, err := ReadCriteriaFile(filepath.Join(t.TempDir(), "missing.json"))
	var pe *fs.PathError
	if !errors.As(err, &pe) {
		t.Fatalf("missing file: %v is not an *fs.PathError", err)
	}
}

// TestDeclarativePolicyProviderAliases: the owner aliases of AWS
// Organizations' declarative-policy syntax (amazon, aws_marketplace,
// aws_backup_vault) map to the API's values.
func TestDeclarativePolicyProviderAliases(t *testing.T) {
	policy := func(providers string) string {
		return `{"ec2_attributes":{"allowed_images_settings":{"state":{"@@assign":"enabled"},"image_criteria":{"criteria_1":{"allowed_image_providers":{"@@assign":` + providers + `}}}}}}`
	}
	c, err := ParseCriteriaJSON([]byte(policy(`["amazon","aws_marketplace","aws_backup_vault","111122223333"]`)))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"amazon", "aws-marketplace", "aws-backup-vault", "111122223333"}
	if !reflect.DeepEqual(c[0].ImageProviders, want) {
		t.Fatalf("providers = %v, want %v", c[0].ImageProviders, want)
	}
	img := Image{OwnerID: "999988887777", OwnerAlias: "aws-marketplace"}
	if v := c.Evaluate(img, "123456789012", img.CreationDate); !v.Allowed {
		t.Fatalf("a marketplace image is not allowed: %s", v.Reason)
	}
	_, err = ParseCriteriaJSON([]byte(policy(`["aws_market_place"]`)))
	wantErr := `ec2_attributes.allowed_images_settings.image_criteria.criteria_1.allowed_image_providers[0]: "aws_market_place" is not a 12-digit account id or an owner alias of amazon, aws_marketplace or aws_backup_vault`
	if err == nil || !strings.Contains(err.Error(), wantErr) {
		t.Fatalf("error = %v, want %q", err, wantErr)
	}
	// The API's criteria JSON keeps the API's spelling only.
	if _, err := ParseCriteriaJSON([]byte(`[{"ImageProviders":["aws_marketplace"]}]`)); err == nil {
		t.Fatal("aws_marketplace accepted in the API's ImageProviders")
	}
}
