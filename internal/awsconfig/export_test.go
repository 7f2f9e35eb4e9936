package awsconfig

import "github.com/aws/aws-sdk-go-v2/service/ec2"

// DecodeDescribeImages exposes the scanner to the external tests, which
// check that it, not the SDK's fallback, read their bodies.
func DecodeDescribeImages(body []byte) (*ec2.DescribeImagesOutput, error) {
	return decodeDescribeImages(body, &pageMemory{})
}

// ParseDateTime exposes the scanner's time parsing, held to smithy's.
var ParseDateTime = parseDateTime

// ParseCreationDate exposes the fast form of ParseEC2Time.
var ParseCreationDate = parseCreationDate
