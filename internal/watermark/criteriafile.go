package watermark

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
)

// Bounds of a criteria file (criteria JSON, the output of
// get-allowed-images-settings, or a declarative policy). EC2's largest
// criteria (10 criteria of 200 providers, 50 names, 50 product codes and
// 50 watermark filters each) are about 250 KB of JSON and at most 6 levels
// deep; a declarative policy that wraps every value in @@assign is about 12.
// The bounds leave room for pretty-printing and are checked before anything
// is decoded, so a hostile file costs at most MaxCriteriaFileSize bytes of
// memory and one pass over them.
const (
	MaxCriteriaFileSize = 1 << 20 // bytes (1 MiB)
	MaxCriteriaDepth    = 32      // nested arrays and objects
)

// ReadCriteriaFile reads and parses the criteria file at path (see
// ParseCriteriaJSON for the forms accepted), reading at most
// MaxCriteriaFileSize+1 bytes. A file that cannot be opened or read
// returns the *fs.PathError of the os package; every other error says what
// is wrong with the content, without the path (callers name the file and
// the option).
func ReadCriteriaFile(path string) (Criteria, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxCriteriaFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxCriteriaFileSize {
		return nil, fmt.Errorf("the file is larger than %d bytes (1 MiB): Allowed-AMIs criteria are at most a few hundred KB; give the criteria JSON itself", MaxCriteriaFileSize)
	}
	return ParseCriteriaJSON(data)
}

// checkJSONShape checks, in one pass over data with memory bounded by
// MaxCriteriaDepth, that data is one JSON array or object, nested at most
// MaxCriteriaDepth levels deep, with nothing but white space after it.
// The parsers call it before building anything from data.
func checkJSONShape(data []byte) error {
	if len(data) > MaxCriteriaFileSize {
		return fmt.Errorf("the JSON is larger than %d bytes (1 MiB): Allowed-AMIs criteria are at most a few hundred KB", MaxCriteriaFileSize)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	depth := 0
	for first := true; first || depth > 0; first = false {
		tok, err := dec.Token()
		if err != nil {
			return jsonSyntax(err)
		}
		d, isDelim := tok.(json.Delim)
		switch {
		case first && !isDelim:
			return fmt.Errorf("the JSON is %s, not a list of criteria or an object: give a JSON array of criteria, for example [{\"ImageWatermarks\":[{\"WatermarkKey\":\"111122223333:golden\"}]}]", tokenKind(tok))
		case d == '[' || d == '{':
			if depth++; depth > MaxCriteriaDepth {
				return fmt.Errorf("the JSON is nested more than %d levels deep: Allowed-AMIs criteria are a few levels deep; give the criteria JSON itself", MaxCriteriaDepth)
			}
		case d == ']' || d == '}':
			depth--
		}
	}
	rest := data[dec.InputOffset():]
	if trimmed := bytes.TrimLeft(rest, " \t\r\n"); len(trimmed) > 0 {
		return fmt.Errorf("unexpected text after the JSON value at byte %d (%s): the file must hold one JSON value; remove what follows it", len(data)-len(trimmed)+1, excerpt(trimmed))
	}
	return nil
}

// tokenKind names a JSON scalar for messages.
func tokenKind(tok json.Token) string {
	switch tok.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case string:
		return "a string"
	}
	return "a number"
}

// excerpt quotes the start of b for a message (at most 20 bytes; control
// and binary bytes escaped).
func excerpt(b []byte) string {
	if len(b) > 20 {
		return fmt.Sprintf("%q...", b[:20])
	}
	return fmt.Sprintf("%q", b)
}
