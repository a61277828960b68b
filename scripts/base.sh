#!/bin/bash
# Make $BASE_REPO: a git tree whose only commit (tagged "base") is Debian's
# linux-source-6.12 at the pinned version, checked against its sha256.
# If the pinned version can no longer be downloaded, fall back to the newest
# 6.12.y the archive has, with a loud warning (and no sha256 check).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

if git -C "$BASE_REPO" rev-parse -q --verify base >/dev/null 2>&1; then
	exit 0
fi

dl=$CACHE/dl
mkdir -p "$dl"
version=$BASE_VERSION
deb=$(ls "$dl"/${BASE_PKG}_"${version//\~/%7e}"_all.deb "$dl"/${BASE_PKG}_"${version}"_all.deb 2>/dev/null | head -1 || true)
if [ -z "$deb" ]; then
	log "downloading $BASE_PKG=$version"
	if ! (cd "$dl" && apt-get download -q "$BASE_PKG=$version" 2>&1) &&
	   ! { apt-get update -q >/dev/null && (cd "$dl" && apt-get download -q "$BASE_PKG=$version" 2>&1); }; then
		version=$(apt-cache madison "$BASE_PKG" | awk '{print $3}' | sort -V | tail -1)
		[ -n "$version" ] || die "no $BASE_PKG in the archive (apt-get update?)"
		cat >&2 <<WARN

################################################################
# WARNING: $BASE_PKG=$BASE_VERSION cannot be downloaded any more.
# Falling back to the newest 6.12.y in the archive: $version
# Its sha256 is NOT checked. Results are not comparable with the
# pinned base until BASE_VERSION/BASE_SHA256 in scripts/lib.sh
# are updated.
################################################################

WARN
		BASE_SHA256=
		(cd "$dl" && apt-get download -q "$BASE_PKG=$version")
	fi
	deb=$(ls -t "$dl"/${BASE_PKG}_*_all.deb | head -1)
fi

x=$(mktemp -d "$CACHE/extract.XXXXXX")
trap 'rm -rf "$x"' EXIT
dpkg-deb --fsys-tarfile "$deb" | tar -C "$x" -x ./usr/src/$BASE_PKG.tar.xz
tarball=$x/usr/src/$BASE_PKG.tar.xz
if [ -n "$BASE_SHA256" ]; then
	echo "$BASE_SHA256  $tarball" | sha256sum -c --quiet - ||
		die "sha256 of $BASE_PKG.tar.xz does not match the pin"
fi
log "extracting $BASE_PKG $version"
rm -rf "$BASE_REPO.tmp"
mkdir -p "$BASE_REPO.tmp"
tar -C "$BASE_REPO.tmp" --strip-components=1 -xf "$tarball"
rm -rf "$x"

log "committing the base"
cd "$BASE_REPO.tmp"
git init -q -b base-branch .
# Debian ships a .gitignore set; keep everything that is in the tarball.
git add -f -A .
sub=$(sed -n 's/^SUBLEVEL = //p' Makefile)
export GIT_AUTHOR_DATE="2000-01-01T00:00:00Z" GIT_COMMITTER_DATE="2000-01-01T00:00:00Z"
tgit . commit -q -m "Linux 6.12.$sub from Debian $BASE_PKG $version" \
	-m "Unpacked from /usr/src/$BASE_PKG.tar.xz of $BASE_PKG $version." \
	-m "sha256 ${BASE_SHA256:-not checked (fallback)}"
git tag base
if [ -n "$BASE_SHA256" ]; then
	echo "base: $BASE_PKG $version, sha256 $BASE_SHA256 (pinned)" > .git/base-info
else
	echo "base: $BASE_PKG $version, NOT the pinned $BASE_VERSION (fallback, sha256 unchecked)" > .git/base-info
fi
git gc -q --auto || true
cd /
rm -rf "$BASE_REPO"
mv "$BASE_REPO.tmp" "$BASE_REPO"
log "base: $(git -C "$BASE_REPO" log --oneline -1 base)"
