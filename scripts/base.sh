#!/bin/bash
# Make $BASE_REPO: a git repository whose tag "base" is Debian's
# linux-source-6.12 at the pinned version (BASE_VERSION), checked against
# its sha256 (BASE_SHA256), as one root commit with fixed dates: the same
# commit ID on every machine.
# If the pinned version can no longer be downloaded, fall back to the newest
# 6.12.y the archive has, with a loud warning (and no sha256 check).
#
# A pin moved to another version adds that version's commit to the same
# repository and moves "base" there; the commit of every version is kept
# under a tag of its own (debian-VERSION, "~" written "_"), since the trees
# made from it (git clone --shared) borrow its objects.  tree.sh moves
# their "base" tag along.
#
# base.sh import VERSION [SHA256] only imports that version (under its
# debian-VERSION tag, "base" unchanged) and prints the commit: the stable
# check (scripts/stable-check.sh) uses it for a newer 6.12.y.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

vtag() { echo "debian-${1//\~/_}"; }

# import VERSION SHA256: the commit of linux-source-6.12 VERSION, made once
# and kept under its tag; prints its ID.  Returns 1 when it cannot be
# downloaded; exits 2 when its sha256 is not SHA256.
import() {
	local version=$1 sha=$2 tag deb x tarball sub tree commit
	tag=$(vtag "$version")
	if git -C "$BASE_REPO" rev-parse -q --verify "refs/tags/$tag" >/dev/null 2>&1; then
		git -C "$BASE_REPO" rev-parse "refs/tags/$tag^{commit}"
		return
	fi
	local dl=$CACHE/dl
	deb=$dl/${BASE_PKG}_${version//\~/%7e}_all.deb
	[ -f "$deb" ] || deb=$dl/${BASE_PKG}_${version}_all.deb
	if [ ! -f "$deb" ]; then
		log "downloading $BASE_PKG=$version"
		dapt_download "$BASE_PKG" "$version" "$dl" || return 1
		deb=$(ls "$dl"/${BASE_PKG}_"${version//\~/%7e}"_all.deb "$dl"/${BASE_PKG}_"${version}"_all.deb 2>/dev/null | head -1 || true)
		[ -n "$deb" ] || return 1
	fi
	tarball=$(deb_tarball "$deb" "usr/src/$BASE_PKG.tar.xz" "$sha" "$BASE_PKG.tar.xz ($version)") || exit $?
	x=${tarball%/usr/src/*}
	log "extracting $BASE_PKG $version"
	tree=$x/tree
	mkdir -p "$tree"
	tar -C "$tree" --strip-components=1 -xf "$tarball"
	rm -f "$tarball"
	log "committing $BASE_PKG $version"
	[ -d "$BASE_REPO/.git" ] || git init -q -b base-branch "$BASE_REPO"
	sub=$(sed -n 's/^SUBLEVEL = //p' "$tree/Makefile")
	# A root commit of the whole tarball (Debian ships a .gitignore set:
	# add -f), through a scratch index: the repository's own work tree is
	# not touched, and the commit does not depend on what it held.
	export GIT_INDEX_FILE=$x/index
	tgit "$BASE_REPO" --work-tree="$tree" add -f -A .
	commit=$(GIT_AUTHOR_DATE="2000-01-01T00:00:00Z" GIT_COMMITTER_DATE="2000-01-01T00:00:00Z" \
		tgit "$BASE_REPO" commit-tree "$(tgit "$BASE_REPO" write-tree)" \
		-m "Linux 6.12.$sub from Debian $BASE_PKG $version" \
		-m "Unpacked from /usr/src/$BASE_PKG.tar.xz of $BASE_PKG $version." \
		-m "sha256 ${sha:-not checked (fallback)}")
	unset GIT_INDEX_FILE
	rm -rf "$x"
	git -C "$BASE_REPO" tag "$tag" "$commit"
	git -C "$BASE_REPO" gc -q --auto || true
	echo "$commit"
}

if [ "${1:-}" = import ]; then
	import "${2:?usage: base.sh import VERSION [SHA256]}" "${3:-}"
	exit
fi

# Up to date: "base" is the pinned version's commit.
want=$(vtag "$BASE_VERSION")
if git -C "$BASE_REPO" rev-parse -q --verify base >/dev/null 2>&1; then
	cur=$(git -C "$BASE_REPO" rev-parse "base^{commit}")
	# A repository made before the version tags: its base commit names
	# its version in its subject.
	v=$(git -C "$BASE_REPO" log -1 --format=%s base | sed -n "s/.* $BASE_PKG //p")
	[ -z "$v" ] || git -C "$BASE_REPO" tag -f "$(vtag "$v")" "$cur" >/dev/null
	if [ "$(git -C "$BASE_REPO" rev-parse -q --verify "refs/tags/$want^{commit}" || true)" = "$cur" ]; then
		exit 0
	fi
	log "base: moving from Debian $v to $BASE_VERSION"
fi

version=$BASE_VERSION
sha=$BASE_SHA256
rc=0
commit=$(import "$version" "$sha") || rc=$?
[ $rc = 0 ] || [ $rc = 1 ] || exit $rc
if [ $rc = 1 ]; then
	dapt_update || true
	version=$(dapt_newest "$BASE_PKG")
	[ -n "$version" ] || die "no $BASE_PKG in Debian's archive (network?)"
	cat >&2 <<WARN

################################################################
# WARNING: $BASE_PKG=$BASE_VERSION cannot be downloaded any more.
# Falling back to the newest 6.12.y in the archive: $version
# Its sha256 is NOT checked. Results are not comparable with the
# pinned base until BASE_VERSION/BASE_SHA256 in scripts/lib.sh
# are updated.
################################################################

WARN
	sha=
	commit=$(import "$version" "") || die "cannot download $BASE_PKG=$version"
fi
git -C "$BASE_REPO" tag -f base "$commit" >/dev/null
if [ -n "$sha" ]; then
	echo "base: $BASE_PKG $version, sha256 $sha (pinned)" > "$BASE_REPO/.git/base-info"
else
	echo "base: $BASE_PKG $version, NOT the pinned $BASE_VERSION (fallback, sha256 unchecked)" > "$BASE_REPO/.git/base-info"
fi
log "base: $(git -C "$BASE_REPO" log --oneline -1 base)"
