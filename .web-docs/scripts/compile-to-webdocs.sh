#!/usr/bin/env bash
# Turns the docs rendered by `packer-sdc renderdocs` (docs/ with every
# @include replaced by its partial) into the layout the Packer integrations
# registry reads from .web-docs/:
#
#   RENDERED/README.md                  -> WEBDOCS/README.md
#   RENDERED/<kind>s/<slug>.mdx         -> WEBDOCS/components/<kind>/<slug>/README.md
#
# where <kind> is builder, provisioner, post-processor or data-source. The
# registry shows its own title and page metadata, so the YAML front matter and
# the first level-1 heading of each component page are dropped.
#
# Usage: compile-to-webdocs.sh RENDERED_DIR WEBDOCS_DIR
# Run by `make generate`; WEBDOCS_DIR/metadata.hcl and scripts/ are left alone.
set -euo pipefail

if [[ $# -ne 2 ]]; then
  echo "usage: $0 RENDERED_DIR WEBDOCS_DIR" >&2
  exit 2
fi
src=$1
dst=$2

if [[ ! -f "$src/README.md" ]]; then
  echo "compile-to-webdocs: $src/README.md is missing: docs/README.md is the plugin's main page" >&2
  exit 1
fi

kind_of() {
  case "$1" in
    builders) echo builder ;;
    provisioners) echo provisioner ;;
    post-processors) echo post-processor ;;
    datasources) echo data-source ;;
    *) echo "" ;;
  esac
}

# strip_page drops a leading front-matter block (--- ... ---), then the first
# "# " heading, and the blank lines that directly follow either of them.
strip_page() {
  awk '
    NR == 1 && $0 == "---" { infront = 1; next }
    infront { if ($0 == "---") { infront = 0; skipblank = 1 } ; next }
    skipblank && $0 ~ /^[[:space:]]*$/ { next }
    { skipblank = 0 }
    !seenh1 && /^# / { seenh1 = 1; skipblank = 1; next }
    { print }
  ' "$1"
}

mkdir -p "$dst"
cp "$src/README.md" "$dst/README.md"

count=0
while IFS= read -r -d '' page; do
  rel=${page#"$src"/}
  folder=${rel%%/*}
  name=$(basename "$rel" .mdx)
  if [[ "$name" == index ]]; then
    continue
  fi
  kind=$(kind_of "$folder")
  if [[ -z "$kind" ]]; then
    echo "compile-to-webdocs: $rel: component pages must be in builders/, provisioners/, post-processors/ or datasources/" >&2
    exit 1
  fi
  if [[ "$rel" != "$folder/$name.mdx" ]]; then
    echo "compile-to-webdocs: $rel: component pages must be directly inside $folder/" >&2
    exit 1
  fi
  mkdir -p "$dst/components/$kind/$name"
  strip_page "$page" > "$dst/components/$kind/$name/README.md"
  count=$((count + 1))
done < <(find "$src" -mindepth 2 -name '*.mdx' -print0 | sort -z)

echo "compile-to-webdocs: README.md and $count component page(s) written to $dst"
