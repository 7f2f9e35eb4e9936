#!/usr/bin/env bash
# `make demo`: the example release flow, run with the real packer binary
# against the local EC2 emulator. Nothing touches AWS.
#
#   1. candidate.pkr.hcl  select the newest golden base (us-east-1 and its
#                         eu-west-1 copy) by watermark, attach `candidate`
#   2. promote.pkr.hcl    detach `candidate`, attach `approved`
#   3. verify.pkr.hcl     select the approved base by watermark, age and lineage
#   4. pipeline.pkr.hcl   installs software over SSH on a real instance, so it
#                         is only validated (its data source evaluated against
#                         the emulator)
#   5. emulated-pipeline.pkr.hcl  the same flow without SSH: amazon-ebs on the
#                         approved base (CreateImage, CopyImage), then attach
#                         `app-web`; `amiwatermark inspect` shows the result
#   6. verify.pkr.hcl     again: the base is still the base
#
# Needs: bash, make, Go. Everything else (packer, the amazon plugin, this
# plugin, the emulator) is built here; the first run spends most of its time
# building packer and the amazon plugin once into bin/. Working files go to
# .demo/ (git-ignored).
#
# DEMO_PACKER (make demo PACKER=...) picks the Packer:
#   modern  Packer 1.16.0 (bin/packer-modern), the default: plugins installed
#           with `packer plugins install --path`, as on any Packer >= 1.10
#   1.9     Packer 1.9.4 (bin/packer): plugins laid out where `packer init`
#           puts them (1.9 has no --path)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
DEMO="$ROOT/.demo"
ACCOUNT=111122223333
ACCESS_KEY=AKIDTEST${ACCOUNT}   # the emulator acts as the account in the key's last 12 digits

say() { printf '%s\n' "$*"; }
step() { printf '\n=== %s\n' "$*"; }
indent() { sed 's/^/    | /'; }
die() { printf 'demo: %s\n' "$*" >&2; exit 1; }

case "${DEMO_PACKER:-modern}" in
modern) PACKER="$ROOT/bin/packer-modern"; PACKER_VERSION=1.16.0; MAKE_PACKER=packer-modern ;;
1.9) PACKER="$ROOT/bin/packer"; PACKER_VERSION=1.9.4; MAKE_PACKER=packer ;;
*) die "DEMO_PACKER=$DEMO_PACKER: use modern (Packer 1.16.0) or 1.9 (Packer 1.9.4)" ;;
esac

# ---------------------------------------------------------------- build
step "Building packer v$PACKER_VERSION, the amazon plugin, this plugin and the EC2 emulator"
make -s "$MAKE_PACKER" amazon-plugin
[ -x bin/ec2emu ] || make -s emulator

rm -rf "$DEMO"
mkdir -p "$DEMO/home" "$DEMO/work" "$DEMO/build" "$DEMO/plugins"
# This plugin in its release form (no -dev suffix), so the examples'
# required_plugins constraint ">= 0.1.0" matches it on every Packer.
go build -ldflags "-X github.com/amiwatermark/packer-plugin-amiwatermark/version.VersionPrerelease=" \
	-o "$DEMO/build/packer-plugin-amiwatermark" .

# packer runs with a private HOME and plugin directory and the emulator's
# static credentials, so nothing from your own AWS or Packer setup is used.
# URL (the emulator) is set below; the amazon plugin v1.8 needs its STS and
# EC2 endpoints in the environment and a poll delay of at least 1 second
# (docs/emulator.md).
URL=
pk() {
	(cd "$DEMO/work" && env -i PATH="$PATH" HOME="$DEMO/home" ${TMPDIR:+TMPDIR="$TMPDIR"} \
		CHECKPOINT_DISABLE=1 PACKER_PLUGIN_PATH="$DEMO/plugins" PACKER_CONFIG_DIR="$DEMO/home" \
		AWS_ACCESS_KEY_ID="$ACCESS_KEY" AWS_SECRET_ACCESS_KEY=demo-not-a-secret AWS_EC2_METADATA_DISABLED=true \
		${URL:+AWS_ENDPOINT_URL_STS="$URL" AWS_ENDPOINT_URL_EC2="$URL"} AWS_POLL_DELAY_SECONDS=1 \
		"$PACKER" "$@")
}

# install BINARY SOURCE: `packer plugins install --path` where it exists
# (Packer >= 1.10), else the layout it and `packer init` produce.
install() {
	if "$PACKER" plugins install -h 2>&1 | grep -q -- '-path'; then
		pk plugins install --path "$1" "$2" >/dev/null
		return
	fi
	local desc ver api dir file
	desc=$("$1" describe)
	ver=$(printf '%s' "$desc" | sed -E 's/.*"version":"([^"]+)".*/\1/')
	api=$(printf '%s' "$desc" | sed -E 's/.*"api_version":"([^"]+)".*/\1/')
	dir="$DEMO/plugins/$2"
	file="$dir/packer-plugin-${2##*/}_v${ver}_${api}_$(go env GOOS)_$(go env GOARCH)$(go env GOEXE)"
	mkdir -p "$dir"
	cp "$1" "$file"
	if command -v sha256sum >/dev/null 2>&1; then
		sha256sum "$file" | cut -d' ' -f1 | tr -d '\n' >"${file}_SHA256SUM"
	else
		shasum -a 256 "$file" | cut -d' ' -f1 | tr -d '\n' >"${file}_SHA256SUM"
	fi
}
install "$DEMO/build/packer-plugin-amiwatermark" github.com/amiwatermark/amiwatermark
install "$ROOT/bin/packer-plugin-amazon" github.com/hashicorp/amazon
for f in candidate promote verify pipeline emulated-pipeline; do
	pk init "$ROOT/example/$f.pkr.hcl" >/dev/null || die "packer init example/$f.pkr.hcl failed"
done
say "packer: $("$PACKER" version | head -1)"
say "plugins (packer plugins installed):"
pk plugins installed 2>/dev/null | sed "s|$DEMO/plugins/||" | indent || true

# ---------------------------------------------------------------- emulator
step "Starting the EC2 emulator with example/demo-seed.json"
bin/ec2emu --addr 127.0.0.1:0 --seed example/demo-seed.json >"$DEMO/emulator.out" 2>"$DEMO/emulator.err" &
EMU_PID=$!
stop_emulator() {
	if kill -0 "$EMU_PID" 2>/dev/null; then
		kill -TERM "$EMU_PID" 2>/dev/null || true
		wait "$EMU_PID" 2>/dev/null || true
	fi
}
trap stop_emulator EXIT
for _ in $(seq 1 100); do
	line=$(head -n 1 "$DEMO/emulator.out" 2>/dev/null || true)
	case "$line" in
	"listening on http://"*) URL=${line#listening on }; break ;;
	esac
	kill -0 "$EMU_PID" 2>/dev/null || { cat "$DEMO/emulator.err" >&2; die "the emulator exited"; }
	sleep 0.1
done
[ -n "$URL" ] || die "the emulator did not print 'listening on http://HOST:PORT' within 10s"
say "EC2 emulator at $URL (pid $EMU_PID), acting as account $ACCOUNT for access key $ACCESS_KEY."
say
say "Seeded images (example/demo-seed.json):"
say "  us-east-1 ami-0b45e0000000a0901 golden-base-2026.09    owner $ACCOUNT, watermark $ACCOUNT:golden-base (older base)"
say "  us-east-1 ami-0b45e0000000a1101 golden-base-2026.11    owner $ACCOUNT, watermark $ACCOUNT:golden-base (current base)"
say "  us-east-1 ami-0a99e0000000a1120 app-web-2026.11.20     owner $ACCOUNT, built FROM the current base: inherited $ACCOUNT:golden-base"
say "  us-east-1 ami-0bad00000000a1124 golden-base-2026.11.24 owner 444455556666 (shared with us), watermark 444455556666:golden-base"
say "  eu-west-1 ami-0b45e0000000e0901 golden-base-2026.09    copy of the older base (CopyImage keeps the watermark)"
say "  eu-west-1 ami-0b45e0000000e1101 golden-base-2026.11    copy of the current base"

# ---------------------------------------------------------------- packer
# field FILE KEY: a string value of the manifest's custom_data (last build).
field() { sed -n -E 's/^ *"'"$2"'": "(.*)",?$/\1/p' "$1" | tail -n 1; }
expect() { # expect WHAT GOT WANT
	[ "$2" = "$3" ] || die "$1 is '$2', expected '$3': the plugin or the emulator misbehaved (see the output above)"
}

step "1. packer build example/candidate.pkr.hcl: select the golden base, attach 'candidate'"
pk build -color=false -var "ec2_endpoint=$URL" "$ROOT/example/candidate.pkr.hcl" 2>&1 | indent ||
	die "packer build example/candidate.pkr.hcl failed (output above)"
m="$DEMO/work/candidate-manifest.json"
[ -f "$m" ] || die "candidate.pkr.hcl wrote no manifest"
p_id=$(field "$m" primary_id); c_id=$(field "$m" copy_id)
expect "the us-east-1 base" "$p_id" ami-0b45e0000000a1101
expect "the eu-west-1 base" "$c_id" ami-0b45e0000000e1101
say
say "What happened:"
say "  The data source chose $p_id ($(field "$m" primary_name), created $(field "$m" primary_created)) in us-east-1:"
say "    it is the newest image owned by $ACCOUNT that carries $(field "$m" primary_matched_key) attached to itself."
say "    Not chosen: ami-0a99e0000000a1120 app-web-2026.11.20 is newer and carries the same key, but inherited it"
say "      when it was built from the base (lineage = \"attached\" skips derived images);"
say "    ami-0bad00000000a1124 golden-base-2026.11.24 is newer still and has a watermark named golden-base,"
say "      but its key is 444455556666:golden-base: AWS writes the attaching account into the key, so another"
say "      account cannot forge $ACCOUNT:golden-base; ami-0b45e0000000a0901 is an older base."
say "  In eu-west-1 it chose $c_id ($(field "$m" copy_name)), the copy of $(field "$m" copy_source_image_id)."
say "  The post-processor attached $ACCOUNT:candidate to $p_id (us-east-1) and $c_id (eu-west-1)."

step "2. packer build example/promote.pkr.hcl: the candidate passed its tests, promote it"
pk build -color=false -var "ec2_endpoint=$URL" "$ROOT/example/promote.pkr.hcl" 2>&1 | indent ||
	die "packer build example/promote.pkr.hcl failed (output above)"
say
say "What happened:"
say "  The data source found the newest image carrying $ACCOUNT:candidate in each region ($p_id, $c_id)."
say "  The post-processor checked both AMIs first, then on each detached $ACCOUNT:candidate and attached"
say "  $ACCOUNT:approved."

step "3. packer build example/verify.pkr.hcl: which base may application builds use?"
pk build -color=false -var "ec2_endpoint=$URL" "$ROOT/example/verify.pkr.hcl" 2>&1 | indent ||
	die "packer build example/verify.pkr.hcl failed (output above)"
m="$DEMO/work/verify-manifest.json"
[ -f "$m" ] || die "verify.pkr.hcl wrote no manifest"
a_id=$(field "$m" approved_id)
expect "the approved base" "$a_id" "$p_id"
say
say "What happened:"
say "  The approved golden base is $a_id ($(field "$m" approved_name)): it carries $(field "$m" approved_key)"
say "  attached to itself at $(field "$m" approved_at) (less than 30 days ago), is owned by $ACCOUNT"
say "  and also carries $ACCOUNT:golden-base."
say "  Its watermarks now: $(field "$m" all_watermarks)"
say "  An application build (example/pipeline.pkr.hcl) would use it as source_ami; the new image would"
say "  inherit these watermarks, and the post-processor would add $ACCOUNT:app-web."

step "4. packer validate -evaluate-datasources example/pipeline.pkr.hcl: the application build"
pk validate -evaluate-datasources -var "ec2_endpoint=$URL" "$ROOT/example/pipeline.pkr.hcl" 2>&1 | indent ||
	die "packer validate example/pipeline.pkr.hcl failed (output above)"
say
say "What happened:"
say "  pipeline.pkr.hcl is valid, and its data source resolved source_ami against the emulator (the same"
say "  query as verify.pkr.hcl). It installs software over SSH, which needs a real EC2 instance; the next"
say "  step runs the same flow without the SSH part."

step "5. packer build example/emulated-pipeline.pkr.hcl: amazon-ebs on the approved base, then attach 'app-web'"
pk build -color=false -var "ec2_endpoint=$URL" "$ROOT/example/emulated-pipeline.pkr.hcl" 2>&1 | indent ||
	die "packer build example/emulated-pipeline.pkr.hcl failed (output above)"
m="$DEMO/work/emulated-pipeline-manifest.json"
[ -f "$m" ] || die "emulated-pipeline.pkr.hcl wrote no manifest"
expect "the base of the application build" "$(field "$m" base_id)" "$a_id"
artifact=$(field "$m" artifact_id)
case "$artifact" in *us-east-1:ami-*) ;; *) die "the manifest's artifact_id is '$artifact', expected the new AMIs" ;; esac
say
say "What happened:"
say "  The amazon plugin's amazon-ebs builder launched an instance from $a_id, imaged it and copied the AMI to"
say "  eu-west-1: $artifact. Both new AMIs inherited the base's watermarks; the"
say "  post-processor then attached $ACCOUNT:app-web to each. As 'amiwatermark inspect' (the CLI in"
say "  cmd/amiwatermark) shows, the inherited keys keep the base as their source:"
go build -o "$DEMO/build/amiwatermark" ./cmd/amiwatermark
(env -i PATH="$PATH" HOME="$DEMO/home" AWS_ACCESS_KEY_ID="$ACCESS_KEY" AWS_SECRET_ACCESS_KEY=demo-not-a-secret \
	AWS_EC2_METADATA_DISABLED=true "$DEMO/build/amiwatermark" inspect --endpoint "$URL" "$artifact") 2>&1 | indent ||
	die "amiwatermark inspect failed (output above)"

step "6. packer build example/verify.pkr.hcl again: the base is still the base"
pk build -color=false -var "ec2_endpoint=$URL" "$ROOT/example/verify.pkr.hcl" >"$DEMO/verify-again.log" 2>&1 ||
	{ indent <"$DEMO/verify-again.log"; die "packer build example/verify.pkr.hcl failed (output above)"; }
m="$DEMO/work/verify-manifest.json"
expect "the approved base after the application build" "$(field "$m" approved_id)" "$a_id"
say "  The new application AMIs are newer and carry $ACCOUNT:approved too (inherited), yet the data"
say "  source still answers $a_id: with lineage = \"attached\" only the image the key was attached to"
say "  (or a direct copy of it) counts, so an application image never becomes anybody's base."

step "Done"
say "Five builds and one validation ran with packer v$PACKER_VERSION against the emulator at $URL; it stops now."
say "Templates: example/*.pkr.hcl. Working files: .demo/. Run the tests with: make test"
