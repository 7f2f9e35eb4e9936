package awsconfig

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go/middleware"
	smithytime "github.com/aws/smithy-go/time"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// Reading DescribeImages answers.
//
// An organization-wide run reads hundreds of thousands of images, and the
// SDK's generic XML decoding (encoding/xml token by token) costs about
// 45 to 60 µs of CPU per image: on a small machine the decoding, not EC2,
// sets the pace. FastDescribeImages reads the successful answers of
// DescribeImages with a scanner made for EC2's plain XML, about fifteen
// times cheaper (BenchmarkDescribeImagesDecode), and fills the same ec2.DescribeImagesOutput the SDK would. It
// changes nothing else: the SDK still signs, sends, retries, times out and
// decodes every error answer. Any body the scanner does not read exactly
// as encoding/xml would (a comment, CDATA, an unknown entity, a field the
// scanner does not fill, malformed XML) goes to the SDK's own deserializer
// unchanged, so the result is always the SDK's. TestFastDescribeImagesMatchesSDK
// and FuzzFastDescribeImages hold the two to the same output.

// FastDescribeImages is an API option: on DescribeImages stacks it wraps
// the SDK's deserializer.
func FastDescribeImages(stack *middleware.Stack) error {
	if stack.ID() != "DescribeImages" {
		return nil
	}
	const id = "OperationDeserializer"
	sdk, ok := stack.Deserialize.Get(id)
	if !ok {
		return nil
	}
	_, err := stack.Deserialize.Swap(id, describeImagesDeserializer{sdk: sdk})
	return err
}

type describeImagesDeserializer struct {
	sdk middleware.DeserializeMiddleware
}

func (describeImagesDeserializer) ID() string { return "OperationDeserializer" }

// HandleDeserialize runs the SDK's deserializer on the response. A
// successful answer the scanner reads is decoded here and the SDK is shown
// an empty body (which it reads as an empty output); the output is then
// replaced by the decoded one.
func (d describeImagesDeserializer) HandleDeserialize(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
	var fast *ec2.DescribeImagesOutput
	peek := middleware.DeserializeHandlerFunc(func(ctx context.Context, in middleware.DeserializeInput) (middleware.DeserializeOutput, middleware.Metadata, error) {
		out, md, err := next.HandleDeserialize(ctx, in)
		resp, ok := out.RawResponse.(*smithyhttp.Response)
		if err != nil || !ok || resp.StatusCode < 200 || resp.StatusCode >= 300 {
			return out, md, err
		}
		mem := newPageMemory()
		buf := &mem.body
		if resp.ContentLength > 0 && resp.ContentLength < 1<<30 {
			// ReadFrom wants MinRead bytes free to see the end of the
			// body: without them it would double the buffer at the end.
			buf.Grow(int(resp.ContentLength) + bytes.MinRead)
		}
		_, rerr := buf.ReadFrom(resp.Body)
		body := buf.Bytes()
		if rerr == nil {
			if o, err := decodeDescribeImages(body, mem); err == nil {
				fast, body = o, nil
				md.Set(pageMemoryKey{}, mem)
			}
		}
		// The SDK reads what is left: nothing, or the whole body followed
		// by the read error, if any, exactly as it would have met it.
		resp.Body = readCloser{io.MultiReader(bytes.NewReader(body), failAfter{rerr}), resp.Body}
		return out, md, err
	})
	out, md, err := d.sdk.HandleDeserialize(ctx, in, peek)
	if err == nil && fast != nil {
		out.Result = fast
	}
	return out, md, err
}

// readCloser reads r and closes the original body.
type readCloser struct {
	io.Reader
	c io.Closer
}

func (r readCloser) Close() error { return r.c.Close() }

// failAfter returns err (io.EOF when nil).
type failAfter struct{ err error }

func (e failAfter) Read([]byte) (int, error) {
	if e.err == nil {
		return 0, io.EOF
	}
	return 0, e.err
}

// decodeDescribeImages decodes a DescribeImagesResponse, or returns
// errUnusual for the SDK to decode it.
func decodeDescribeImages(body []byte, mem *pageMemory) (*ec2.DescribeImagesOutput, error) {
	// The text values are slices of the body as a string, without a copy:
	// the body's buffer is this page's alone and not written again until
	// the page is released (on success the SDK is shown an empty body;
	// otherwise it reads this one, and the memory is not reused).
	s := &xmlScan{b: body, s: unsafe.String(unsafe.SliceData(body), len(body)), mem: mem}
	root, err := s.root()
	if err != nil {
		return nil, err
	}
	out := &ec2.DescribeImagesOutput{}
	err = s.fields(root, false, []string{"imagesSet", "nextToken"}, func(c []byte, e bool) (bool, error) {
		switch string(c) {
		case "imagesSet":
			if out.Images == nil {
				// EC2's images take 600 to 2 000 bytes; fewer grow the slice.
				if n := len(body)/512 + 1; cap(mem.images) >= n {
					out.Images = mem.images[:0]
				} else {
					out.Images = make([]types.Image, 0, n)
				}
			}
			return true, s.items(c, e, func(c []byte, e bool) error {
				// Decoded in place: a local Image would escape to the heap.
				// The slots past the length are zero (made so, or cleared
				// by ReleaseDescribeImages), so the slice just grows.
				if n := len(out.Images); n < cap(out.Images) {
					out.Images = out.Images[:n+1]
				} else {
					out.Images = append(out.Images, types.Image{})
				}
				return s.image(c, e, &out.Images[len(out.Images)-1])
			})
		case "nextToken":
			// Its own copy, not a slice of the body: a paginator keeps
			// the token for the next call, and would keep the page's
			// whole body alive with it.
			err := s.str(c, e, &out.NextToken)
			if err == nil {
				t := strings.Clone(*out.NextToken)
				out.NextToken = &t
			}
			return true, err
		}
		return false, nil
	})
	if err != nil {
		return nil, err
	}
	if cap(out.Images) > cap(mem.images) {
		mem.images = out.Images[:0]
	}
	mem.used = len(out.Images)
	return out, s.rest()
}

// pageMemory is what a page decoded here lives in: the answer's body (the
// page's strings are slices of it), its images, and the blocks its string
// fields point into. ReleaseDescribeImages gives it back for a later page:
// an organization-wide scan decodes hundreds of pages of a megabyte, and
// allocating each anew kept the garbage collector busy.
type pageMemory struct {
	body   bytes.Buffer
	images []types.Image
	used   int        // images decoded into images
	strs   [][]string // blocks of strings; the first nstrs are in use
	nstrs  int
}

type pageMemoryKey struct{}

var (
	pageMemories sync.Pool
	// poisonReleased: see PoisonReleasedPages.
	poisonReleased atomic.Bool
)

func newPageMemory() *pageMemory {
	if m, ok := pageMemories.Get().(*pageMemory); ok {
		return m
	}
	return &pageMemory{}
}

// ReleaseDescribeImages gives the memory of a DescribeImages page decoded
// by FastDescribeImages back, for a later page to reuse. Call it once done
// with the page: every string, image and pointer read from the page is then
// invalid (copy what must outlive the page first, for example with
// strings.Clone). The page's NextToken is a copy of its own and stays
// valid. A page the SDK decoded, or one already released, is left as is;
// a page never released is simply collected.
func ReleaseDescribeImages(page *ec2.DescribeImagesOutput) {
	if page == nil {
		return
	}
	mem, ok := page.ResultMetadata.Get(pageMemoryKey{}).(*pageMemory)
	if !ok || mem == nil {
		return
	}
	page.ResultMetadata.Set(pageMemoryKey{}, (*pageMemory)(nil))
	page.Images = nil
	// The next page's images start from zero values: decodeDescribeImages
	// takes the slots past the length as they are.
	clear(mem.images[:mem.used])
	mem.used, mem.nstrs = 0, 0
	if poisonReleased.Load() {
		// Not reused: overwritten, so that a string kept by mistake shows.
		b := mem.body.Bytes()
		for i := range b {
			b[i] = '#'
		}
		return
	}
	mem.body.Reset()
	if mem.body.Cap() > 8<<20 {
		return // an unusually large answer: left to the collector
	}
	pageMemories.Put(mem)
}

// PoisonReleasedPages makes ReleaseDescribeImages overwrite a released
// page's text with '#' instead of reusing its memory. Tests turn it on to
// show that nothing read from a page is used after the page is released.
func PoisonReleasedPages(on bool) { poisonReleased.Store(on) }

// strIn stores v in the page's string blocks and returns its address.
func (s *xmlScan) strIn(v string) *string {
	m := s.mem
	if len(s.strs) == cap(s.strs) {
		if m.nstrs == len(m.strs) {
			m.strs = append(m.strs, make([]string, 0, 256))
		}
		s.strs = m.strs[m.nstrs][:0]
		m.nstrs++
	}
	s.strs = append(s.strs, v)
	return &s.strs[len(s.strs)-1]
}

// The names the SDK reads in each structure (compared without case, as
// it does). A name here that the scanner does not fill sends the body to
// the SDK.
var (
	imageNames = []string{"architecture", "blockDeviceMapping", "bootMode", "creationDate", "deprecationTime",
		"deregistrationProtection", "description", "enaSupport", "freeTierEligible", "hypervisor", "imageAllowed",
		"imageId", "imageLocation", "imageOwnerAlias", "imageType", "imageWatermarkSet", "imdsSupport",
		"instanceTypeSpecification", "kernelId", "lastLaunchedTime", "name", "imageOwnerId", "platform",
		"platformDetails", "productCodes", "isPublic", "publicSsmParameterName", "ramdiskId", "rootDeviceName",
		"rootDeviceType", "scanResults", "sourceImageId", "sourceImageRegion", "sourceInstanceId", "sriovNetSupport",
		"imageState", "stateReason", "tagSet", "tpmSupport", "usageOperation", "virtualizationType"}
	watermarkNames   = []string{"sourceImageCreationTime", "sourceImageId", "sourceImageRegion", "watermarkCreationTime", "watermarkKey"}
	blockDeviceNames = []string{"deviceName", "ebs", "noDevice", "virtualName"}
	ebsNames         = []string{"availabilityZone", "AvailabilityZoneId", "deleteOnTermination", "EbsCardIndex", "encrypted", "iops", "kmsKeyId", "outpostArn", "snapshotId", "throughput", "VolumeInitializationRate", "volumeSize", "volumeType"}
	productCodeNames = []string{"productCode", "type"}
	tagNames         = []string{"key", "value"}
	stateReasonNames = []string{"code", "message"}
	scanResultNames  = []string{"criticalFixAvailableSince", "findingScanDate", "highestFindingSeverityLabel", "highFixAvailableSince", "informationalFixAvailableSince", "lowFixAvailableSince", "mediumFixAvailableSince"}
	listNames        = []string{"item"}
	errUnfilled      = fmt.Errorf("%w: a field the scanner does not fill", errUnusual)
)

func (s *xmlScan) image(name []byte, empty bool, im *types.Image) error {
	return s.fields(name, empty, imageNames, func(c []byte, e bool) (bool, error) {
		switch string(c) {
		case "architecture":
			return true, enum(s, c, e, &im.Architecture)
		case "blockDeviceMapping":
			if im.BlockDeviceMappings == nil {
				im.BlockDeviceMappings = []types.BlockDeviceMapping{}
			}
			return true, s.items(c, e, func(c []byte, e bool) error {
				var bd types.BlockDeviceMapping
				err := s.blockDevice(c, e, &bd)
				im.BlockDeviceMappings = append(im.BlockDeviceMappings, bd)
				return err
			})
		case "bootMode":
			return true, enum(s, c, e, &im.BootMode)
		case "creationDate":
			return true, s.str(c, e, &im.CreationDate)
		case "deprecationTime":
			return true, s.str(c, e, &im.DeprecationTime)
		case "deregistrationProtection":
			return true, s.str(c, e, &im.DeregistrationProtection)
		case "description":
			return true, s.str(c, e, &im.Description)
		case "enaSupport":
			return true, s.boolean(c, e, &im.EnaSupport)
		case "freeTierEligible":
			return true, s.boolean(c, e, &im.FreeTierEligible)
		case "hypervisor":
			return true, enum(s, c, e, &im.Hypervisor)
		case "imageAllowed":
			return true, s.boolean(c, e, &im.ImageAllowed)
		case "imageId":
			return true, s.str(c, e, &im.ImageId)
		case "imageLocation":
			return true, s.str(c, e, &im.ImageLocation)
		case "imageOwnerAlias":
			return true, s.str(c, e, &im.ImageOwnerAlias)
		case "imageType":
			return true, enum(s, c, e, &im.ImageType)
		case "imageWatermarkSet":
			if im.ImageWatermarks == nil {
				im.ImageWatermarks = []types.ImageWatermark{}
			}
			return true, s.items(c, e, func(c []byte, e bool) error {
				var w types.ImageWatermark
				err := s.watermark(c, e, &w)
				im.ImageWatermarks = append(im.ImageWatermarks, w)
				return err
			})
		case "imdsSupport":
			return true, enum(s, c, e, &im.ImdsSupport)
		case "kernelId":
			return true, s.str(c, e, &im.KernelId)
		case "lastLaunchedTime":
			return true, s.str(c, e, &im.LastLaunchedTime)
		case "name":
			return true, s.str(c, e, &im.Name)
		case "imageOwnerId":
			return true, s.str(c, e, &im.OwnerId)
		case "platform":
			return true, enum(s, c, e, &im.Platform)
		case "platformDetails":
			return true, s.str(c, e, &im.PlatformDetails)
		case "productCodes":
			if im.ProductCodes == nil {
				im.ProductCodes = []types.ProductCode{}
			}
			return true, s.items(c, e, func(c []byte, e bool) error {
				var pc types.ProductCode
				err := s.fields(c, e, productCodeNames, func(c []byte, e bool) (bool, error) {
					switch string(c) {
					case "productCode":
						return true, s.str(c, e, &pc.ProductCodeId)
					case "type":
						return true, enum(s, c, e, &pc.ProductCodeType)
					}
					return false, nil
				})
				im.ProductCodes = append(im.ProductCodes, pc)
				return err
			})
		case "isPublic":
			return true, s.boolean(c, e, &im.Public)
		case "publicSsmParameterName":
			return true, s.str(c, e, &im.PublicSsmParameterName)
		case "ramdiskId":
			return true, s.str(c, e, &im.RamdiskId)
		case "rootDeviceName":
			return true, s.str(c, e, &im.RootDeviceName)
		case "rootDeviceType":
			return true, enum(s, c, e, &im.RootDeviceType)
		case "scanResults":
			if im.ScanResults == nil {
				im.ScanResults = &types.ScanResults{}
			}
			return true, s.scanResults(c, e, im.ScanResults)
		case "sourceImageId":
			return true, s.str(c, e, &im.SourceImageId)
		case "sourceImageRegion":
			return true, s.str(c, e, &im.SourceImageRegion)
		case "sourceInstanceId":
			return true, s.str(c, e, &im.SourceInstanceId)
		case "sriovNetSupport":
			return true, s.str(c, e, &im.SriovNetSupport)
		case "imageState":
			return true, enum(s, c, e, &im.State)
		case "stateReason":
			if im.StateReason == nil {
				im.StateReason = &types.StateReason{}
			}
			sr := im.StateReason
			return true, s.fields(c, e, stateReasonNames, func(c []byte, e bool) (bool, error) {
				switch string(c) {
				case "code":
					return true, s.str(c, e, &sr.Code)
				case "message":
					return true, s.str(c, e, &sr.Message)
				}
				return false, nil
			})
		case "tagSet":
			if im.Tags == nil {
				im.Tags = []types.Tag{}
			}
			return true, s.items(c, e, func(c []byte, e bool) error {
				var t types.Tag
				err := s.fields(c, e, tagNames, func(c []byte, e bool) (bool, error) {
					switch string(c) {
					case "key":
						return true, s.str(c, e, &t.Key)
					case "value":
						return true, s.str(c, e, &t.Value)
					}
					return false, nil
				})
				im.Tags = append(im.Tags, t)
				return err
			})
		case "tpmSupport":
			return true, enum(s, c, e, &im.TpmSupport)
		case "usageOperation":
			return true, s.str(c, e, &im.UsageOperation)
		case "virtualizationType":
			return true, enum(s, c, e, &im.VirtualizationType)
		}
		return false, nil // instanceTypeSpecification: the SDK decodes it
	})
}

func (s *xmlScan) watermark(name []byte, empty bool, w *types.ImageWatermark) error {
	return s.fields(name, empty, watermarkNames, func(c []byte, e bool) (bool, error) {
		switch string(c) {
		case "sourceImageCreationTime":
			return true, s.time(c, e, &w.SourceImageCreationTime)
		case "sourceImageId":
			return true, s.str(c, e, &w.SourceImageId)
		case "sourceImageRegion":
			return true, s.str(c, e, &w.SourceImageRegion)
		case "watermarkCreationTime":
			return true, s.time(c, e, &w.WatermarkCreationTime)
		case "watermarkKey":
			return true, s.str(c, e, &w.WatermarkKey)
		}
		return false, nil
	})
}

func (s *xmlScan) blockDevice(name []byte, empty bool, bd *types.BlockDeviceMapping) error {
	return s.fields(name, empty, blockDeviceNames, func(c []byte, e bool) (bool, error) {
		switch string(c) {
		case "deviceName":
			return true, s.str(c, e, &bd.DeviceName)
		case "noDevice":
			return true, s.str(c, e, &bd.NoDevice)
		case "virtualName":
			return true, s.str(c, e, &bd.VirtualName)
		case "ebs":
			if bd.Ebs == nil {
				bd.Ebs = &types.EbsBlockDevice{}
			}
			ebs := bd.Ebs
			return true, s.fields(c, e, ebsNames, func(c []byte, e bool) (bool, error) {
				switch string(c) {
				case "availabilityZone":
					return true, s.str(c, e, &ebs.AvailabilityZone)
				case "deleteOnTermination":
					return true, s.boolean(c, e, &ebs.DeleteOnTermination)
				case "encrypted":
					return true, s.boolean(c, e, &ebs.Encrypted)
				case "iops":
					return true, s.int32(c, e, &ebs.Iops)
				case "kmsKeyId":
					return true, s.str(c, e, &ebs.KmsKeyId)
				case "outpostArn":
					return true, s.str(c, e, &ebs.OutpostArn)
				case "snapshotId":
					return true, s.str(c, e, &ebs.SnapshotId)
				case "throughput":
					return true, s.int32(c, e, &ebs.Throughput)
				case "volumeSize":
					return true, s.int32(c, e, &ebs.VolumeSize)
				case "volumeType":
					return true, enum(s, c, e, &ebs.VolumeType)
				}
				return false, nil
			})
		}
		return false, nil
	})
}

func (s *xmlScan) scanResults(name []byte, empty bool, r *types.ScanResults) error {
	return s.fields(name, empty, scanResultNames, func(c []byte, e bool) (bool, error) {
		switch string(c) {
		case "criticalFixAvailableSince":
			return true, s.time(c, e, &r.CriticalFixAvailableSince)
		case "findingScanDate":
			return true, s.time(c, e, &r.FindingScanDate)
		case "highestFindingSeverityLabel":
			return true, enum(s, c, e, &r.HighestFindingSeverityLabel)
		case "highFixAvailableSince":
			return true, s.time(c, e, &r.HighFixAvailableSince)
		case "informationalFixAvailableSince":
			return true, s.time(c, e, &r.InformationalFixAvailableSince)
		case "lowFixAvailableSince":
			return true, s.time(c, e, &r.LowFixAvailableSince)
		case "mediumFixAvailableSince":
			return true, s.time(c, e, &r.MediumFixAvailableSince)
		}
		return false, nil
	})
}

// fields reads the children of a structure: f fills the ones it knows
// (handled = true); any other name the SDK knows (names, without case)
// sends the body to the SDK; names nobody knows are skipped, as the SDK
// skips them.
func (s *xmlScan) fields(name []byte, empty bool, names []string, f func(c []byte, e bool) (bool, error)) error {
	if empty {
		return nil
	}
	for {
		c, e, end, err := s.child(name)
		if err != nil || end {
			return err
		}
		handled, err := f(c, e)
		if err != nil {
			return err
		}
		if handled {
			continue
		}
		for _, n := range names {
			if bytes.EqualFold(c, []byte(n)) {
				return errUnfilled
			}
		}
		if err := s.skip(c, e); err != nil {
			return err
		}
	}
}

// items reads the <item> children of a list; other children are skipped.
func (s *xmlScan) items(name []byte, empty bool, item func(c []byte, e bool) error) error {
	return s.fields(name, empty, listNames, func(c []byte, e bool) (bool, error) {
		if string(c) != "item" {
			return false, nil
		}
		return true, item(c, e)
	})
}

func (s *xmlScan) str(name []byte, empty bool, dst **string) error {
	v, err := s.text(name, empty)
	if err != nil {
		return err
	}
	*dst = s.strIn(v)
	return nil
}

// inBlock stores v in the last block of blocks and returns its address.
// The SDK's fields are pointers: the values they point to are allocated a
// block of a few hundred at a time, not one by one.
func inBlock[T any](blocks *[]T, v T) *T {
	if len(*blocks) == cap(*blocks) {
		*blocks = make([]T, 0, 256)
	}
	*blocks = append(*blocks, v)
	return &(*blocks)[len(*blocks)-1]
}

func enum[T ~string](s *xmlScan, name []byte, empty bool, dst *T) error {
	v, err := s.text(name, empty)
	if err != nil {
		return err
	}
	*dst = T(v)
	return nil
}

func (s *xmlScan) boolean(name []byte, empty bool, dst **bool) error {
	v, err := s.text(name, empty)
	if err != nil {
		return err
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return errUnusual // the SDK's error
	}
	*dst = inBlock(&s.bools, b)
	return nil
}

func (s *xmlScan) int32(name []byte, empty bool, dst **int32) error {
	v, err := s.text(name, empty)
	if err != nil {
		return err
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return errUnusual
	}
	i := int32(n) // as the SDK converts it
	*dst = &i
	return nil
}

func (s *xmlScan) time(name []byte, empty bool, dst **time.Time) error {
	v, err := s.text(name, empty)
	if err != nil {
		return err
	}
	t, err := parseDateTime(v)
	if err != nil {
		return errUnusual
	}
	*dst = inBlock(&s.times, t)
	return nil
}

// parseDateTime is smithytime.ParseDateTime, which tries its layouts in
// turn: "…05.999999999Z", "…05.999999999", RFC 3339 (nano). A time with a
// numeric offset (EC2 writes watermark times so) fails the first two, each
// failure costing an error built with fmt, and is the third's: it goes
// there directly.
func parseDateTime(v string) (time.Time, error) {
	const secs = len("2006-01-02T15:04:05")
	i := secs
	if i < len(v) && v[i] == '.' {
		for i++; i < len(v) && v[i] >= '0' && v[i] <= '9'; i++ {
		}
	}
	if len(v) > secs && i < len(v) && (v[i] == '+' || v[i] == '-') {
		if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
			return t, nil
		}
	}
	return smithytime.ParseDateTime(v)
}
