package ec2emu

import "time"

// State is everything the emulator knows; it is what --state persists (as
// JSON). Image and instance ids are unique across regions and accounts.
type State struct {
	Images    map[string]*Image    `json:"images"`
	Instances map[string]*Instance `json:"instances"`
	// Settings holds the Allowed-AMIs settings per account and region,
	// keyed by settingsKey(account, region).
	Settings map[string]*AllowedSettings `json:"settings"`
	// ClockOffset is how far POST /_emu/clock moved the clock forward.
	ClockOffset time.Duration `json:"clock_offset"`
	// Seq feeds id generation so ids never repeat within one state.
	Seq uint64 `json:"seq"`
	// ClientTokens maps account/region/action/ClientToken to the id the
	// first call produced (CopyImage, RunInstances idempotency).
	ClientTokens map[string]string `json:"client_tokens,omitempty"`

	// index orders each region's images for DescribeImages (api_index.go);
	// derived, never persisted, rebuilt when Images changes behind its back.
	index *imageIndex
}

func newState() *State {
	return &State{
		Images:    map[string]*Image{},
		Instances: map[string]*Instance{},
		Settings:  map[string]*AllowedSettings{},
	}
}

func settingsKey(account, region string) string { return account + "/" + region }

// Image is an AMI.
type Image struct {
	ID          string `json:"id"`
	Region      string `json:"region"`
	Owner       string `json:"owner"`
	OwnerAlias  string `json:"owner_alias,omitempty"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	// State: pending, available, invalid, deregistered, transient, failed,
	// error, disabled.
	State           string     `json:"state"`
	CreationDate    time.Time  `json:"creation_date"`
	DeprecationTime *time.Time `json:"deprecation_time,omitempty"`
	// Public is launchPermission group "all".
	Public bool `json:"public,omitempty"`
	// SharedWith are the account ids with launch permission.
	SharedWith        []string          `json:"shared_with,omitempty"`
	ProductCodes      []string          `json:"product_codes,omitempty"`
	Tags              map[string]string `json:"tags,omitempty"`
	SourceImageID     string            `json:"source_image_id,omitempty"`
	SourceImageRegion string            `json:"source_image_region,omitempty"`
	SourceInstanceID  string            `json:"source_instance_id,omitempty"`
	Watermarks        []Watermark       `json:"watermarks,omitempty"`

	Architecture       string        `json:"architecture,omitempty"`
	ImageType          string        `json:"image_type,omitempty"`
	Platform           string        `json:"platform,omitempty"`
	PlatformDetails    string        `json:"platform_details,omitempty"`
	RootDeviceType     string        `json:"root_device_type,omitempty"`
	RootDeviceName     string        `json:"root_device_name,omitempty"`
	VirtualizationType string        `json:"virtualization_type,omitempty"`
	Hypervisor         string        `json:"hypervisor,omitempty"`
	ImageLocation      string        `json:"image_location,omitempty"`
	EnaSupport         bool          `json:"ena_support,omitempty"`
	BlockDevices       []BlockDevice `json:"block_devices,omitempty"`

	// AvailableAt: a pending image becomes available at this time (zero:
	// governed by PendingDescribes only).
	AvailableAt time.Time `json:"available_at,omitempty"`
	// PendingDescribes: DescribeImages calls that still see it pending.
	PendingDescribes int `json:"pending_describes,omitempty"`
	// NotFoundDescribes: DescribeImages calls naming it by id that still
	// answer InvalidAMIID.NotFound.
	NotFoundDescribes int `json:"not_found_describes,omitempty"`
	// DeregisteredAt: deregistered images stay describable for a short while.
	DeregisteredAt *time.Time `json:"deregistered_at,omitempty"`
}

// BlockDevice is one block device mapping of an image.
type BlockDevice struct {
	DeviceName          string `json:"device_name"`
	SnapshotID          string `json:"snapshot_id,omitempty"`
	VolumeSize          int32  `json:"volume_size,omitempty"`
	VolumeType          string `json:"volume_type,omitempty"`
	DeleteOnTermination bool   `json:"delete_on_termination,omitempty"`
	Encrypted           bool   `json:"encrypted,omitempty"`
}

// Watermark is one watermark on an image; copied verbatim to derived images.
type Watermark struct {
	Key                     string    `json:"key"`
	SourceImageID           string    `json:"source_image_id"`
	SourceImageRegion       string    `json:"source_image_region"`
	SourceImageCreationTime time.Time `json:"source_image_creation_time"`
	WatermarkCreationTime   time.Time `json:"watermark_creation_time"`
}

// Instance is a record of a launched instance (not a machine).
type Instance struct {
	ID      string `json:"id"`
	Region  string `json:"region"`
	Owner   string `json:"owner"`
	ImageID string `json:"image_id"`
	// ReservationID groups the instances of one RunInstances call.
	ReservationID string `json:"reservation_id,omitempty"`
	// LaunchWatermarks are the watermarks the image carried at launch;
	// CreateImage copies these.
	LaunchWatermarks []Watermark       `json:"launch_watermarks,omitempty"`
	State            string            `json:"state"` // pending, running, stopping, stopped, shutting-down, terminated
	InstanceType     string            `json:"instance_type,omitempty"`
	LaunchTime       time.Time         `json:"launch_time"`
	Tags             map[string]string `json:"tags,omitempty"`
}

// AllowedSettings is the Allowed-AMIs setting of one account in one region.
type AllowedSettings struct {
	State     string           `json:"state"`      // disabled, enabled, audit-mode
	ManagedBy string           `json:"managed_by"` // account, declarative-policy
	Criteria  []ImageCriterion `json:"criteria,omitempty"`
}

// ImageCriterion is one Allowed-AMIs criterion; set parameters are ANDed.
type ImageCriterion struct {
	ImageProviders             []string             `json:"image_providers,omitempty"`
	ImageNames                 []string             `json:"image_names,omitempty"`
	MarketplaceProductCodes    []string             `json:"marketplace_product_codes,omitempty"`
	MaximumDaysSinceCreated    *int64               `json:"maximum_days_since_created,omitempty"`
	MaximumDaysSinceDeprecated *int64               `json:"maximum_days_since_deprecated,omitempty"`
	ImageWatermarks            []WatermarkCriterion `json:"image_watermarks,omitempty"`
}

// WatermarkCriterion is one ImageWatermark filter: all set fields must hold
// on the same watermark.
type WatermarkCriterion struct {
	WatermarkKey                       *string `json:"watermark_key,omitempty"`
	SourceImageRegion                  *string `json:"source_image_region,omitempty"`
	MaximumDaysSinceWatermarkCreated   *int64  `json:"maximum_days_since_watermark_created,omitempty"`
	MaximumDaysSinceSourceImageCreated *int64  `json:"maximum_days_since_source_image_created,omitempty"`
}
