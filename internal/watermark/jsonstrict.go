package watermark

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
)

// decodeTree reads one JSON value into a tree of map[string]any, []any,
// string, json.Number, bool and nil, refusing duplicate object keys (Go's
// encoding/json keeps the last one silently, so a second "ImageProviders"
// could widen a policy unnoticed) and data after the value.
func decodeTree(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := treeValue(dec, "")
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err == nil {
		return nil, errors.New("unexpected data after the first JSON value")
	}
	return v, nil
}

func treeValue(dec *json.Decoder, path string) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, jsonSyntax(err)
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			m := map[string]any{}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, jsonSyntax(err)
				}
				k := kt.(string)
				if _, dup := m[k]; dup {
					return nil, fmt.Errorf("%s: the key %q appears twice: keep one (JSON readers disagree on which one wins)", pathText(path), k)
				}
				v, err := treeValue(dec, joinPath(path, k))
				if err != nil {
					return nil, err
				}
				m[k] = v
			}
			if _, err := dec.Token(); err != nil {
				return nil, jsonSyntax(err)
			}
			return m, nil
		case '[':
			l := []any{}
			for i := 0; dec.More(); i++ {
				v, err := treeValue(dec, fmt.Sprintf("%s[%d]", path, i))
				if err != nil {
					return nil, err
				}
				l = append(l, v)
			}
			if _, err := dec.Token(); err != nil {
				return nil, jsonSyntax(err)
			}
			return l, nil
		}
		return nil, fmt.Errorf("unexpected %q", t)
	}
	return tok, nil
}

func jsonSyntax(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("the JSON ends too early")
	}
	return err
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func pathText(path string) string {
	if path == "" {
		return "the top level"
	}
	return path
}

// checkKeys walks the tree against the JSON field names of t and refuses
// every key that is not exactly (case included) the name of a field:
// encoding/json would match "imageproviders" to ImageProviders, but EC2's
// own JSON readers do not.
func checkKeys(v any, t reflect.Type, path string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			return nil // a type error; json.Unmarshal reports it
		}
		fields := map[string]reflect.Type{}
		var names []string
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "" || name == "-" {
				continue
			}
			fields[name] = f.Type
			names = append(names, name)
		}
		for k, sub := range m {
			ft, known := fields[k]
			if !known {
				for _, n := range names {
					if strings.EqualFold(n, k) {
						return fmt.Errorf("%s: unknown field %q: field names are case-sensitive, write %q", pathText(path), k, n)
					}
				}
				return fmt.Errorf("%s: unknown field %q: the fields here are %s", pathText(path), k, strings.Join(names, ", "))
			}
			if err := checkKeys(sub, ft, joinPath(path, k)); err != nil {
				return err
			}
		}
	case reflect.Slice:
		l, ok := v.([]any)
		if !ok {
			return nil
		}
		for i, e := range l {
			if err := checkKeys(e, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	}
	return nil
}

// strictUnmarshal decodes data into v: duplicate keys, keys that differ in
// case from a field name and unknown keys are errors.
func strictUnmarshal(data []byte, v any) error {
	tree, err := decodeTree(data)
	if err != nil {
		return fmt.Errorf("reading the criteria JSON: %v", err)
	}
	if err := checkKeys(tree, reflect.TypeOf(v), ""); err != nil {
		return fmt.Errorf("reading the criteria JSON: %v (expected the form of `aws ec2 replace-image-criteria-in-allowed-images-settings --image-criteria`)", err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("reading the criteria JSON: %v (expected the form of `aws ec2 replace-image-criteria-in-allowed-images-settings --image-criteria`)", err)
	}
	return nil
}
