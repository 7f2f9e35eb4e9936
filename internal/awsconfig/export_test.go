package awsconfig

// DecodeDescribeImages exposes the scanner to the external tests, which
// check that it, not the SDK's fallback, read their bodies.
var DecodeDescribeImages = decodeDescribeImages
