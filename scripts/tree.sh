#!/bin/bash
# tree.sh TREE: make TREE a kernel git tree with the series applied as
# commits on branch "iommufd-nesting", on top of the base.
#
# The series is applied with git am in a scratch worktree (in the cache)
# and TREE is then checked out at the result, so files the series does not
# change keep their mtimes and an out-of-tree build stays incremental.
#
# TREE is created from the Debian base when missing.  With LINUX_TREE set,
# TREE is the user's own 6.12.y git tree: the base is LINUX_BASE (default:
# its HEAD when first applied), kept as branch iommufd-nesting-base.
#
# Refuses to drop work unless FORCE=1: uncommitted changes; HEAD not on
# branch iommufd-nesting; a rebase or am in progress; or commits on the
# branch that differ from the series as it was last applied (so work not
# yet exported is kept, while a series/ updated by git pull applies).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
tree=${1:?usage: tree.sh TREE}
force=${FORCE:-0}

if [ -n "${LINUX_TREE:-}" ]; then
	tree=$LINUX_TREE
	git -C "$tree" rev-parse --git-dir >/dev/null 2>&1 ||
		die "LINUX_TREE=$LINUX_TREE is not a git tree"
	if [ -n "${LINUX_BASE:-}" ]; then
		git -C "$tree" branch -f iommufd-nesting-base "$LINUX_BASE"
	elif ! git -C "$tree" rev-parse -q --verify iommufd-nesting-base >/dev/null; then
		git -C "$tree" branch iommufd-nesting-base HEAD
	fi
	log "LINUX_TREE: base is $(git -C "$tree" log --oneline -1 iommufd-nesting-base)"
else
	bash "$TOP/scripts/base.sh"
	if [ ! -d "$tree/.git" ]; then
		log "creating $tree from the base"
		rm -rf "$tree"
		git clone -q --shared --no-checkout "$BASE_REPO" "$tree"
		git -C "$tree" checkout -q -b iommufd-nesting base
	fi
fi
base=$(base_ref "$tree")
gitdir=$(git -C "$tree" rev-parse --absolute-git-dir)
applied=$gitdir/iommufd-applied

if [ "$force" != 1 ]; then
	[ -z "$(git -C "$tree" status --porcelain --untracked-files=no)" ] ||
		die "$tree has uncommitted changes (FORCE=1 drops them)"
	for d in rebase-merge rebase-apply; do
		[ ! -e "$gitdir/$d" ] || die "$tree: a rebase or am is in progress; finish it first"
	done
	# A branch still at the base (a tree just created) holds no work.
	if git -C "$tree" rev-parse -q --verify iommufd-nesting >/dev/null &&
	   [ "$(git -C "$tree" rev-parse iommufd-nesting)" != "$(git -C "$tree" rev-parse "$base")" ]; then
		[ "$(git -C "$tree" symbolic-ref -q HEAD)" = refs/heads/iommufd-nesting ] ||
			die "$tree: HEAD is not on branch iommufd-nesting; check it out (or FORCE=1)"
		# Unexported work?  Export the branch and compare it with the
		# series last applied here (or series/ on a first run).
		ref=$applied
		[ -d "$ref" ] || ref=$SERIES_DIR
		tmp=$(mktemp -d)
		trap 'rm -rf "$tmp"' EXIT
		SERIES_OUT=$tmp bash "$TOP/scripts/export.sh" "$tree" >/dev/null 2>&1 || true
		if ! diff -q <(cd "$tmp" && cat $(grep -v '^#' series)) \
			     <(cd "$ref" && cat $(grep -v '^#' series)) >/dev/null 2>&1; then
			die "branch iommufd-nesting in $tree has commits that were not exported; run make export (or FORCE=1 to drop them)"
		fi
	fi
fi

# A tree made from the base follows its pin: when scripts/base.sh moved
# "base" to another version, the tree's own "base" tag moves too (the
# checks above ran against the base the tree's commits were made on), and
# the series is applied anew on it below.
if [ -z "${LINUX_TREE:-}" ]; then
	old=$(git -C "$tree" rev-parse -q --verify "base^{commit}" || true)
	git -C "$tree" fetch -q --no-tags "$BASE_REPO" "+refs/tags/base:refs/tags/base"
	new_base=$(git -C "$tree" rev-parse "base^{commit}")
	[ "$old" = "$new_base" ] ||
		log "$tree: base moved to $(git -C "$tree" log --format=%s -1 base)"
fi

# The scratch worktree lives in the cache; reuse it only if it is really
# a worktree of this tree (a removed and recreated tree leaves a stale one).
scratch=$CACHE/scratch/$(printf '%s' "$tree" | sha256sum | cut -c1-16)
if [ -d "$scratch" ] &&
   [ "$(git -C "$scratch" rev-parse --git-common-dir 2>/dev/null | xargs -r realpath 2>/dev/null)" != "$(realpath "$gitdir")" ]; then
	rm -rf "$scratch"
fi
if [ ! -d "$scratch" ]; then
	git -C "$tree" worktree prune
	mkdir -p "$CACHE/scratch"
	git -C "$tree" worktree add -q --detach "$scratch" "$base"
fi
git -C "$scratch" am --abort >/dev/null 2>&1 || true
git -C "$scratch" checkout -q -f --detach "$base"
mapfile -t patches < <(grep -v '^[[:space:]]*\(#\|$\)' "$SERIES_DIR/series")
if [ ${#patches[@]} -gt 0 ]; then
	tgit "$scratch" am -q --committer-date-is-author-date "${patches[@]/#/$SERIES_DIR/}" ||
		die "the series does not apply on $(git -C "$tree" log --oneline -1 "$base")"
fi
new=$(git -C "$scratch" rev-parse HEAD)
git -C "$scratch" checkout -q --detach "$base"
git -C "$tree" checkout -q $([ "$force" = 1 ] && echo -f) -B iommufd-nesting "$new"
rm -rf "$applied"
mkdir -p "$applied"
cp "$SERIES_DIR"/*.patch "$SERIES_DIR/series" "$applied"/
log "$tree: iommufd-nesting = $(git -C "$tree" rev-list --count "$base..$new") patches on $(git -C "$tree" log --format=%s -1 "$base")"
