// Package acctest holds the acceptance tests: the end-to-end scenarios of
// e2e/ (a real `packer` binary running templates with this plugin), run
// against real AWS instead of the emulator, with e2e's own templates
// (e2e/testdata: the region, names, filters and credentials are variables;
// the credentials are left empty here, so the SDK's default chain is used).
// The packer is $PACKER_ACC_PACKER, else bin/packer-modern (Packer 1.16.0),
// else bin/packer (1.9.4), else packer from PATH. Run them with
//
//	make testacc
//
// which sets PACKER_ACC=1. They need AWS credentials from the SDK's default
// chain (AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, SSO, an
// instance role) and a region (AWS_REGION, or AMIWATERMARK_ACC_REGION). Set
// AMIWATERMARK_ACC_SECOND_REGION to add a second region to the multi-region
// scenarios and to test a cross-region CopyImage. Without PACKER_ACC=1, or
// without usable credentials, every test skips and says how to run it.
//
// What they create, in the test account: one 1 GiB gp3 EBS volume per region
// (deleted as soon as it has been snapshotted), one snapshot of it per region,
// and a handful of AMIs registered from that snapshot, all named and tagged
// amiwatermark-acc-<run id>. Every AMI is deregistered and every snapshot and
// volume deleted when the tests end, pass or fail; anything that could not be
// removed is listed in the test log with the command that removes it. The
// watermark names carry the run id too, so runs never see each other's
// watermarks.
//
// IAM permissions needed: ec2:DescribeAvailabilityZones, ec2:CreateVolume,
// ec2:DescribeVolumes, ec2:DeleteVolume, ec2:CreateSnapshot,
// ec2:DescribeSnapshots, ec2:DeleteSnapshot, ec2:RegisterImage,
// ec2:DeregisterImage, ec2:CopyImage, ec2:CreateTags, ec2:DescribeImages,
// ec2:AttachImageWatermark and ec2:DetachImageWatermark (the promotion
// scenario; it fails with a hint when a service control policy denies it).
//
// AMIWATERMARK_ACC_EC2_ENDPOINT=http://127.0.0.1:PORT points everything at a
// running cmd/ec2emu instead (with AWS_ACCESS_KEY_ID=AKIDTEST111122223333 and
// any secret); the emulator has no volumes or snapshots, so the AMIs are
// registered from a made-up snapshot id. It is a way to check the tests
// themselves without an AWS account.
package acctest
