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
	// Sessions are the temporary credentials AssumeRole handed out, by
	// access key id (sts.go).
	Sessions map[string]*Session `json:"sessions,omitempty"`
	// Accounts are the seeded accounts, by id (seed "accounts"); an
	// account that is not seeded has the defaults (every region of
	// DescribeRegions' default list, AssumeRole allowed).
	Accounts map[string]*Account `json:"accounts,omitempty"`
	// Organization is the seeded organization; nil: none (Organizations
	// answers AWSOrganizationsNotInUseException). Its members are the
	// seeded accounts.
	Organization *Organization `json:"organization,omitempty"`
	// BuilderImages are the seeded EC2 Image Builder image build versions,
	// by ARN (seed "image_builder_images", imagebuilder.go).
	BuilderImages map[string]*BuilderImage `json:"builder_images,omitempty"`

	// The records the amazon-ebs builder's flow needs (builder_*.go): each
	// belongs to one account in one region. A nil map is empty; the
	// emulator creates the maps on first use (states saved by older
	// versions have none). Each account gets a default VPC per region
	// (with a default subnet per availability zone and a "default"
	// security group) the first time it needs one.
	Vpcs           map[string]*Vpc           `json:"vpcs,omitempty"`
	Subnets        map[string]*Subnet        `json:"subnets,omitempty"`
	SecurityGroups map[string]*SecurityGroup `json:"security_groups,omitempty"`
	KeyPairs       map[string]*KeyPair       `json:"key_pairs,omitempty"` // by key pair id
	Volumes        map[string]*Volume        `json:"volumes,omitempty"`
	Snapshots      map[string]*Snapshot      `json:"snapshots,omitempty"`

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
	// ScanResults: Amazon Inspector's results (api_scan.go); nil when the
	// image was never scanned.
	ScanResults *ScanResults `json:"scan_results,omitempty"`

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

	// Launch details (builder_instances.go). Instances saved by older
	// versions have none of them and are shown without network details.
	KeyName          string   `json:"key_name,omitempty"`
	VpcID            string   `json:"vpc_id,omitempty"`
	SubnetID         string   `json:"subnet_id,omitempty"`
	AvailabilityZone string   `json:"availability_zone,omitempty"`
	SecurityGroupIDs []string `json:"security_group_ids,omitempty"`
	PrivateIP        string   `json:"private_ip,omitempty"`
	// PublicIP is released on stop and terminate, as EC2 does with
	// auto-assigned public addresses.
	PublicIP           string `json:"public_ip,omitempty"`
	AssociatePublicIP  bool   `json:"associate_public_ip,omitempty"`
	NetworkInterfaceID string `json:"network_interface_id,omitempty"`
	// Volumes are the ids of the EBS volumes attached at launch, in
	// device order (the records are in State.Volumes).
	Volumes          []string `json:"volumes,omitempty"`
	RootDeviceName   string   `json:"root_device_name,omitempty"`
	EbsOptimized     bool     `json:"ebs_optimized,omitempty"`
	EnaSupport       *bool    `json:"ena_support,omitempty"`
	SriovNetSupport  string   `json:"sriov_net_support,omitempty"`
	ShutdownBehavior string   `json:"shutdown_behavior,omitempty"` // stop (default) or terminate
	IamProfile       string   `json:"iam_profile,omitempty"`
	ClientToken      string   `json:"client_token,omitempty"`
	// StateReason/StateTransitionReason explain the last stop or
	// termination (stateReason, reason).
	StateReason           string `json:"state_reason,omitempty"`
	StateTransitionReason string `json:"state_transition_reason,omitempty"`
	// A transitional state (pending after StartInstances, stopping) is
	// reported by SettleDescribes more DescribeInstances answers, or
	// until SettleAt, whichever comes first; then it is final.
	SettleDescribes int       `json:"settle_describes,omitempty"`
	SettleAt        time.Time `json:"settle_at,omitzero"`
}

// Vpc is a VPC record. Only default VPCs are created (one per account and
// region); CreateVpc is not emulated.
type Vpc struct {
	ID        string            `json:"id"`
	Region    string            `json:"region"`
	Owner     string            `json:"owner"`
	CIDR      string            `json:"cidr"`
	IsDefault bool              `json:"is_default,omitempty"`
	Tags      map[string]string `json:"tags,omitempty"`
}

// Subnet is a subnet record; default subnets map public IPs on launch.
type Subnet struct {
	ID               string            `json:"id"`
	Region           string            `json:"region"`
	Owner            string            `json:"owner"`
	VpcID            string            `json:"vpc_id"`
	AvailabilityZone string            `json:"availability_zone"`
	CIDR             string            `json:"cidr"`
	DefaultForAz     bool              `json:"default_for_az,omitempty"`
	MapPublicIP      bool              `json:"map_public_ip,omitempty"`
	Tags             map[string]string `json:"tags,omitempty"`
	// NextHost is the host number of the next private address handed out
	// (addresses are not reused).
	NextHost int `json:"next_host,omitempty"`
}

// SecurityGroup is a VPC security group record.
type SecurityGroup struct {
	ID          string            `json:"id"`
	Region      string            `json:"region"`
	Owner       string            `json:"owner"`
	VpcID       string            `json:"vpc_id"`
	Name        string            `json:"name"`
	Description string            `json:"description"`
	Ingress     []SecurityRule    `json:"ingress,omitempty"`
	Egress      []SecurityRule    `json:"egress,omitempty"`
	Tags        map[string]string `json:"tags,omitempty"`
}

// SecurityRule is one rule of a security group: a protocol and port range
// with exactly one source (an IPv4 or IPv6 CIDR or a security group).
type SecurityRule struct {
	ID          string `json:"id"`
	Protocol    string `json:"protocol"` // tcp, udp, icmp, icmpv6, -1 (all) or a protocol number
	FromPort    int64  `json:"from_port"`
	ToPort      int64  `json:"to_port"`
	CIDR        string `json:"cidr,omitempty"`
	CIDRv6      string `json:"cidr_v6,omitempty"`
	GroupID     string `json:"group_id,omitempty"`
	Description string `json:"description,omitempty"`
}

// KeyPair is a key pair record. The private key is never stored: EC2 hands
// it out once, in the CreateKeyPair answer.
type KeyPair struct {
	ID          string            `json:"id"`
	Region      string            `json:"region"`
	Owner       string            `json:"owner"`
	Name        string            `json:"name"`
	Type        string            `json:"type"` // rsa or ed25519
	Fingerprint string            `json:"fingerprint"`
	PublicKey   string            `json:"public_key,omitempty"` // OpenSSH authorized_keys form
	CreateTime  time.Time         `json:"create_time"`
	Tags        map[string]string `json:"tags,omitempty"`
}

// Volume is an EBS volume record: created for each EBS block device at
// launch; deleted with its instance when DeleteOnTermination is set,
// otherwise detached (available) at termination; DeleteVolume deletes an
// available one.
type Volume struct {
	ID                  string            `json:"id"`
	Region              string            `json:"region"`
	Owner               string            `json:"owner"`
	AvailabilityZone    string            `json:"availability_zone"`
	Size                int32             `json:"size"`
	VolumeType          string            `json:"volume_type"`
	SnapshotID          string            `json:"snapshot_id,omitempty"`
	Encrypted           bool              `json:"encrypted,omitempty"`
	State               string            `json:"state"` // in-use, available, deleted
	CreateTime          time.Time         `json:"create_time"`
	InstanceID          string            `json:"instance_id,omitempty"`
	Device              string            `json:"device,omitempty"`
	DeleteOnTermination bool              `json:"delete_on_termination,omitempty"`
	AttachTime          time.Time         `json:"attach_time,omitzero"`
	Tags                map[string]string `json:"tags,omitempty"`
	// DeletedAt: a deleted volume stays visible to DescribeVolumes (state
	// deleted) for a while, as on EC2, then disappears.
	DeletedAt time.Time `json:"deleted_at,omitzero"`
}

// Snapshot is an EBS snapshot record (no data). Snapshots the emulator
// creates (CreateImage, CopyImage, RegisterImage) are recorded at once;
// those of seeded images when first named. Deleted snapshots stay as
// tombstones so their ids are not found again.
type Snapshot struct {
	ID          string            `json:"id"`
	Region      string            `json:"region"`
	Owner       string            `json:"owner"`
	VolumeID    string            `json:"volume_id,omitempty"`
	VolumeSize  int32             `json:"volume_size"`
	Description string            `json:"description,omitempty"`
	Encrypted   bool              `json:"encrypted,omitempty"`
	StartTime   time.Time         `json:"start_time"`
	Tags        map[string]string `json:"tags,omitempty"`
	Deleted     bool              `json:"deleted,omitempty"`
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
	ScanResultCondition        *ScanCriterion       `json:"scan_result_condition,omitempty"`
}

// WatermarkCriterion is one ImageWatermark filter: all set fields must hold
// on the same watermark.
type WatermarkCriterion struct {
	WatermarkKey                       *string `json:"watermark_key,omitempty"`
	SourceImageRegion                  *string `json:"source_image_region,omitempty"`
	MaximumDaysSinceWatermarkCreated   *int64  `json:"maximum_days_since_watermark_created,omitempty"`
	MaximumDaysSinceSourceImageCreated *int64  `json:"maximum_days_since_source_image_created,omitempty"`
}
