package awsconfig

// DecodeDescribeImages exposes the scanner to the external tests, which
// check that it, not the SDK's fallback, read their bodies.
var DecodeDescribeImages = decodeDescribeImages

// ParseDateTime exposes the scanner's time parsing, held to smithy's.
var ParseDateTime = parseDateTime

// ParseCreationDate exposes the fast form of ParseEC2Time.
var ParseCreationDate = parseCreationDate
