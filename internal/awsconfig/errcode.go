package awsconfig

import (
	"errors"

	"github.com/aws/smithy-go"
)

// ErrorCode is the AWS error code of err ("UnauthorizedOperation",
// "RequestLimitExceeded", ...), or "" when err is not an answer of an AWS API.
func ErrorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}
