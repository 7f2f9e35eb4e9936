package watermark

import "time"

// Watermark is one watermark as DescribeImages reports it.
type Watermark struct {
	Key                     string
	SourceImageID           string
	SourceImageRegion       string
	SourceImageCreationTime time.Time
	WatermarkCreationTime   time.Time
}

// Account is the account part of the key.
func (w Watermark) Account() string { a, _ := SplitKey(w.Key); return a }

// Name is the name part of the key.
func (w Watermark) Name() string { _, n := SplitKey(w.Key); return n }

// Image is the part of an EC2 image the rules look at. The AWS-facing code
// converts ec2 types.Image into it.
type Image struct {
	ID          string
	Region      string
	OwnerID     string
	OwnerAlias  string
	Name        string
	Description string
	State       string // pending, available, ...
	Public      bool
	// CreationDate is the parsed creationDate (zero when absent or unparseable).
	CreationDate time.Time
	// DeprecationTime is the parsed deprecationTime (zero when not deprecated).
	DeprecationTime   time.Time
	SourceImageID     string
	SourceImageRegion string
	SourceInstanceID  string
	ProductCodes      []string
	Watermarks        []Watermark
	// Allowed is imageAllowed; nil when DescribeImages did not report it
	// (the account's Allowed-AMIs setting is disabled).
	Allowed *bool
	// ScanResults are the Amazon Inspector scan results DescribeImages
	// reports for the image; nil when it reports none (the image was never
	// scanned).
	ScanResults *ScanResults
}

// HasKey reports whether the image carries the watermark key.
func (img Image) HasKey(key string) bool {
	for _, w := range img.Watermarks {
		if w.Key == key {
			return true
		}
	}
	return false
}
