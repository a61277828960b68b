#!/bin/bash
# export.sh TREE: write the commits base..iommufd-nesting of TREE back into
# series/ (or $SERIES_OUT) as git format-patch files plus the order file
# "series".  The cover letter keeps its subject and text; its shortlog and
# diffstat are regenerated.  Output is stable: exporting unchanged commits
# gives byte-identical files (no commit IDs, dates from the commits, no
# version signature, fixed abbreviation).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
tree=${1:?usage: export.sh TREE}
[ -n "${LINUX_TREE:-}" ] && tree=$LINUX_TREE
out=${SERIES_OUT:-$SERIES_DIR}
base=$(base_ref "$tree")
[ -z "$(git -C "$tree" status --porcelain --untracked-files=no)" ] ||
	log "warning: $tree has uncommitted changes; they are not exported"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tgit "$tree" -c core.abbrev=12 -c diff.noprefix=false -c format.signature= \
	-c diff.renames=true -c diff.algorithm=default \
	format-patch -q --no-signature --zero-commit --cover-letter --abbrev=12 \
	--no-base --subject-prefix=PATCH -o "$tmp" "$base..iommufd-nesting"
python3 "$TOP/scripts/cover.py" "$tmp" "$SERIES_DIR/0000-cover-letter.patch"

mkdir -p "$out"
rm -f "$out"/*.patch
cp "$tmp"/*.patch "$out"/
{
	echo "# The order in which the patches apply (git am), after the cover letter."
	(cd "$tmp" && ls [0-9]*.patch | grep -v '^0000-')
} > "$out/series"
n=$(grep -vc '^#' "$out/series")
log "exported $n patches to $out"
