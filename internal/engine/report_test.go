package engine

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/smithy-go"
)

func TestStateOf(t *testing.T) {
	denied := &smithy.GenericAPIError{Code: "UnauthorizedOperation", Message: "no"}
	internal := &smithy.GenericAPIError{Code: "InternalError", Message: "oops"}
	for _, c := range []struct {
		name string
		dry  bool
		done int
		err  error
		want string
	}{
		{"nothing to do", false, 0, nil, StateUnchanged},
		{"dry run", true, 2, errors.New("x"), StateUnchanged},
		{"a call took effect", false, 1, nil, StateChanged},
		{"one took effect, the next failed", false, 1, denied, StateChanged},
		{"refused", false, 0, denied, StateUnchanged},
		{"interrupted", false, 0, context.Canceled, StateUnknown},
		{"server error", false, 0, internal, StateUnknown},
	} {
		if got := stateOf(c.dry, c.done, c.err); got != c.want {
			t.Errorf("%s: stateOf = %q, want %q", c.name, got, c.want)
		}
	}
}
