package testkit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"
)

// controlClient bounds every control request.
var controlClient = &http.Client{Timeout: 30 * time.Second}

// DoJSON sends a JSON request (body marshalled unless nil) to url, fails
// the test unless the answer is 2xx, and decodes the answer into out
// (unless nil). It is meant for control endpoints such as the emulator's
// /_emu/*.
func DoJSON(t testing.TB, method, url string, body, out any) {
	t.Helper()
	code, b, err := SendJSON(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	if code/100 != 2 {
		t.Fatalf("%s %s: HTTP %d: %s", method, url, code, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: decoding %q: %v", method, url, b, err)
		}
	}
}

// SendJSON sends a JSON request and returns the status code and the body,
// whatever the status.
func SendJSON(method, url string, body any) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := controlClient.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("%s %s: %w", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, b, fmt.Errorf("%s %s: reading the answer: %w", method, url, err)
	}
	return resp.StatusCode, b, nil
}
