package ec2emu

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// The JSON half of the wire protocols: Organizations speaks JSON 1.1
// (POST /, X-Amz-Target names the operation), Image Builder REST-JSON
// (the operation in the path). Both answer errors as a JSON object whose
// code the SDK reads from the x-amzn-ErrorType header or the body's
// "__type", and whose message it reads from "message" or "Message".

// jsonError is a JSON-protocol error answer.
type jsonError struct {
	Status  int
	Code    string
	Message string
	// Extra fields of the error body (Organizations' "Reason").
	Extra map[string]string
}

func (e *jsonError) Error() string { return e.Code + ": " + e.Message }

// fromAPIError turns an injected fault into a JSON error of service.
func fromAPIError(service string, e *apiError) *jsonError {
	e = serviceFault(service, e)
	return &jsonError{Status: e.Status, Code: e.Code, Message: e.Message}
}

// writeJSON writes a 200 answer with body v.
func writeJSON(w http.ResponseWriter, contentType, reqID string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeJSONError(w, contentType, reqID, &jsonError{Status: http.StatusInternalServerError, Code: "InternalFailure", Message: err.Error()})
		return
	}
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("X-Amzn-Requestid", reqID)
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

// writeJSONError writes e as the JSON protocols' error answer.
func writeJSONError(w http.ResponseWriter, contentType, reqID string, e *jsonError) {
	status := e.Status
	if status == 0 {
		status = http.StatusBadRequest
	}
	body := map[string]string{"__type": e.Code, "message": e.Message}
	for k, v := range e.Extra {
		body[k] = v
	}
	b, _ := json.Marshal(body)
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("X-Amzn-Requestid", reqID)
	h.Set("X-Amzn-Errortype", e.Code)
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
