#!/bin/bash
# tree.sh TREE: make TREE a kernel git tree with the series applied as
# commits on branch "iommufd-nesting", on top of the base.
#
# The series is applied with git am in a scratch worktree and TREE is then
# checked out at the result, so files the series does not change keep their
# mtimes and an out-of-tree build stays incremental.
#
# TREE is created from the Debian base when missing.  With LINUX_TREE set,
# TREE is the user's own 6.12.y tree: the base is LINUX_BASE (default: its
# HEAD when first applied, remembered as branch iommufd-nesting-base).
#
# Refuses to drop work: a dirty TREE, or commits on iommufd-nesting that
# differ from series/, stop it unless FORCE=1.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
tree=${1:?usage: tree.sh TREE}

if [ -n "${LINUX_TREE:-}" ]; then
	[ -d "$LINUX_TREE/.git" ] || die "LINUX_TREE=$LINUX_TREE is not a git tree"
	tree=$LINUX_TREE
	if ! git -C "$tree" rev-parse -q --verify iommufd-nesting-base >/dev/null; then
		git -C "$tree" branch iommufd-nesting-base "${LINUX_BASE:-HEAD}"
		log "LINUX_TREE: base is $(git -C "$tree" log --oneline -1 iommufd-nesting-base)"
	fi
	base=iommufd-nesting-base
else
	bash "$TOP/scripts/base.sh"
	base=base
	if [ ! -d "$tree/.git" ]; then
		log "creating $tree from the base"
		git clone -q --shared --no-checkout "$BASE_REPO" "$tree"
		git -C "$tree" checkout -q -b iommufd-nesting base
	fi
fi

[ -z "$(git -C "$tree" status --porcelain --untracked-files=no)" ] ||
	[ "${FORCE:-0}" = 1 ] || die "$tree has uncommitted changes (FORCE=1 drops them)"

cur=$(git -C "$tree" rev-parse -q --verify iommufd-nesting || true)
if [ -n "$cur" ] && [ "$cur" != "$(git -C "$tree" rev-parse "$base")" ] &&
   [ "${FORCE:-0}" != 1 ]; then
	# Unexported work?  Export it to a scratch directory and compare.
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	SERIES_OUT=$tmp bash "$TOP/scripts/export.sh" "$tree" >/dev/null 2>&1 || true
	for f in "$tmp"/*.patch; do
		case "$(basename "$f")" in 0000-*) continue;; esac
		cmp -s "$f" "$SERIES_DIR/$(basename "$f")" ||
			die "branch iommufd-nesting in $tree has commits that are not in series/ ($(basename "$f")); run make export, or FORCE=1 to drop them"
	done
fi

scratch=$tree.am
if [ ! -d "$scratch" ]; then
	git -C "$tree" worktree prune
	git -C "$tree" worktree add -q --detach "$scratch" "$base"
fi
git -C "$scratch" am --abort >/dev/null 2>&1 || true
git -C "$scratch" checkout -q -f --detach "$base"
mapfile -t patches < <(grep -v '^[[:space:]]*\(#\|$\)' "$SERIES_DIR/series")
if [ ${#patches[@]} -gt 0 ]; then
	(cd "$SERIES_DIR" &&
	 tgit "$scratch" am -q --committer-date-is-author-date "${patches[@]/#/$SERIES_DIR/}") ||
		die "the series does not apply on $(git -C "$tree" log --oneline -1 "$base")"
fi
new=$(git -C "$scratch" rev-parse HEAD)
git -C "$scratch" checkout -q --detach "$base"
git -C "$tree" checkout -q $([ "${FORCE:-0}" = 1 ] && echo -f) -B iommufd-nesting "$new"
log "$tree: iommufd-nesting = $(git -C "$tree" rev-list --count "$base..$new") patches on $(git -C "$tree" log --format=%s -1 "$base")"
