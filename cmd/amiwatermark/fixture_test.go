package main

import (
	"time"

	"github.com/amiwatermark/packer-plugin-amiwatermark/internal/ec2emu"
)

// The lineage world of the command tests.
const (
	amiGolden  = "ami-0aaaaaaaaaaaaaaa1" // us-east-1, mine, golden-base attached here 5 days ago
	amiCopy    = "ami-0bbbbbbbbbbbbbbb2" // eu-west-1, mine, CopyImage of amiGolden
	amiApp     = "ami-0ccccccccccccccc3" // us-east-1, mine, CreateImage from an instance of amiGolden, + "app" attached
	amiForged  = "ami-0ddddddddddddddd4" // us-east-1, acctOther's, shared with me, its own "golden-base"
	amiOld     = "ami-0eeeeeeeeeeeeeee5" // us-east-1, mine, golden-base attached 100 days ago
	amiBare    = "ami-0fffffffffffffff6" // us-east-1, mine, no watermarks
	amiMissing = "ami-0999999999999999f" // exists nowhere
	instSrc    = "i-0123456789abcdef0"
)

// seedLineage seeds the lineage world and returns the emulator's now.
func (e *emu) seedLineage() time.Time {
	now := e.Emulator.Now()
	gold := func(src, region string, wmAge time.Duration) ec2emu.SeedWatermark {
		return ec2emu.SeedWatermark{Key: acctMe + ":golden-base", SourceImageID: src, SourceImageRegion: region,
			WatermarkCreationTime: ts(now.Add(-wmAge))}
	}
	e.seed(
		ec2emu.SeedImage{Region: regionEast, Account: acctMe, ImageID: amiGolden, Name: "golden-base-1",
			CreationDate: ts(now.Add(-10 * testDay)),
			Watermarks:   []ec2emu.SeedWatermark{gold(amiGolden, regionEast, 5*testDay)}},
		ec2emu.SeedImage{Region: regionWest, Account: acctMe, ImageID: amiCopy, Name: "golden-base-1-copy",
			CreationDate:  ts(now.Add(-4 * testDay)),
			SourceImageID: amiGolden, SourceImageRegion: regionEast,
			Watermarks: []ec2emu.SeedWatermark{gold(amiGolden, regionEast, 5*testDay)}},
		ec2emu.SeedImage{Region: regionEast, Account: acctMe, ImageID: amiApp, Name: "app-1",
			CreationDate:  ts(now.Add(-2 * testDay)),
			SourceImageID: amiGolden, SourceImageRegion: regionEast, SourceInstanceID: instSrc,
			Watermarks: []ec2emu.SeedWatermark{gold(amiGolden, regionEast, 5*testDay),
				{Key: "app", WatermarkCreationTime: ts(now.Add(-1 * testDay))}}},
		ec2emu.SeedImage{Region: regionEast, Account: acctOther, ImageID: amiForged, Name: "golden-base-1",
			CreationDate: ts(now.Add(-1 * testDay)), SharedWith: []string{acctMe},
			Watermarks: []ec2emu.SeedWatermark{{Key: "golden-base", WatermarkCreationTime: ts(now.Add(-1 * testDay))}}},
		ec2emu.SeedImage{Region: regionEast, Account: acctMe, ImageID: amiOld, Name: "golden-base-0",
			CreationDate: ts(now.Add(-120 * testDay)),
			Watermarks:   []ec2emu.SeedWatermark{gold(amiOld, regionEast, 100*testDay)}},
		ec2emu.SeedImage{Region: regionEast, Account: acctMe, ImageID: amiBare, Name: "bare",
			CreationDate: ts(now.Add(-3 * testDay))},
	)
	return now
}

// More images for simulate, all in us-east-1.
const (
	amiAmazon     = "ami-0a1a1a1a1a1a1a1a1" // public, amazon
	amiMarket     = "ami-0b2b2b2b2b2b2b2b2" // public, aws-marketplace, product code
	amiPublic     = "ami-0c3c3c3c3c3c3c3c3" // public, acctOther, no alias
	amiOtherApp   = "ami-0d4d4d4d4d4d4d4d4" // acctOther, shared with me, inherited 111122223333:golden-base
	amiDeprecated = "ami-0e5e5e5e5e5e5e5e5" // public, amazon, deprecated 200 days ago
	amiUnshared   = "ami-0f6f6f6f6f6f6f6f6" // acctOther, not shared with me
)

func (e *emu) seedSimulate() time.Time {
	now := e.seedLineage()
	e.seed(
		ec2emu.SeedImage{Region: regionEast, Account: acctAmazon, OwnerAlias: "amazon", ImageID: amiAmazon, Name: "al2023-ami-2026.1",
			CreationDate: ts(now.Add(-30 * testDay)), Public: true},
		ec2emu.SeedImage{Region: regionEast, Account: "679593333241", OwnerAlias: "aws-marketplace", ImageID: amiMarket, Name: "vendor-appliance",
			CreationDate: ts(now.Add(-60 * testDay)), Public: true, ProductCodes: []string{"abc123xyz"}},
		ec2emu.SeedImage{Region: regionEast, Account: acctOther, ImageID: amiPublic, Name: "community-thing",
			CreationDate: ts(now.Add(-6 * testDay)), Public: true},
		ec2emu.SeedImage{Region: regionEast, Account: acctOther, ImageID: amiOtherApp, Name: "other-app",
			CreationDate: ts(now.Add(-1 * testDay)), SharedWith: []string{acctMe},
			SourceImageID: amiGolden, SourceImageRegion: regionEast, SourceInstanceID: "i-0fedcba9876543210",
			Watermarks: []ec2emu.SeedWatermark{{Key: acctMe + ":golden-base", SourceImageID: amiGolden, SourceImageRegion: regionEast,
				SourceImageCreationTime: ts(now.Add(-10 * testDay)), WatermarkCreationTime: ts(now.Add(-5 * testDay))}}},
		ec2emu.SeedImage{Region: regionEast, Account: acctAmazon, OwnerAlias: "amazon", ImageID: amiDeprecated, Name: "amzn2-old",
			CreationDate: ts(now.Add(-400 * testDay)), DeprecationTime: ts(now.Add(-200 * testDay)), Public: true},
		ec2emu.SeedImage{Region: regionEast, Account: acctOther, ImageID: amiUnshared, Name: "private-of-other",
			CreationDate: ts(now.Add(-1 * testDay))},
	)
	return now
}
