#!/bin/bash
# distro-config.sh ARCH: print the path of Debian's own kernel configuration
# for ARCH (x86_64: amd64_none_amd64, arm64: arm64_none_arm64) from
# linux-config-6.12 at DISTRO_CONFIG_VERSION, the base's version
# (scripts/lib.sh), checked against the package's pinned sha256 and kept in
# $CACHE/dl.  If that version can no longer be downloaded, falls back to
# the newest linux-config-6.12 with a loud warning and no sha256 check.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
arch=${1:?usage: distro-config.sh ARCH}
case "$arch" in
x86_64) darch=amd64 flav=amd64_none_amd64 ;;
arm64) darch=arm64 flav=arm64_none_arm64 ;;
*) die "unknown ARCH $arch" ;;
esac
version=$DISTRO_CONFIG_VERSION
shavar=DISTRO_CONFIG_SHA256_$darch
sha=${!shavar}
dl=$CACHE/dl
cfg=$dl/$DISTRO_CONFIG_PKG-$version/config.$flav
# apt names the file with "~" or with "%7e"
debfile() { ls "$dl/${DISTRO_CONFIG_PKG}_${1//\~/%7e}_$darch.deb" "$dl/${DISTRO_CONFIG_PKG}_${1}_$darch.deb" 2>/dev/null | head -1 || true; }
if [ ! -f "$cfg" ]; then
	deb=$(debfile "$version")
	if [ -z "$deb" ] && ! dapt_download "$DISTRO_CONFIG_PKG:$darch" "$version" "$dl"; then
		dapt_update || true
		new=$(dapt_newest "$DISTRO_CONFIG_PKG")
		[ -n "$new" ] || die "no $DISTRO_CONFIG_PKG in Debian's archive (network?)"
		cat >&2 <<WARN

################################################################
# WARNING: $DISTRO_CONFIG_PKG=$version cannot be downloaded any more.
# Falling back to the newest in the archive: $new
# Its sha256 is NOT checked. Update DISTRO_CONFIG_VERSION and the
# DISTRO_CONFIG_SHA256_* pins in scripts/lib.sh.
################################################################

WARN
		version=$new sha=
		cfg=$dl/$DISTRO_CONFIG_PKG-$version/config.$flav
		[ -n "$(debfile "$version")" ] || dapt_download "$DISTRO_CONFIG_PKG:$darch" "$version" "$dl" ||
			die "cannot download $DISTRO_CONFIG_PKG:$darch=$version"
	fi
	deb=$(debfile "$version")
	if [ ! -f "$cfg" ]; then
		if [ -n "$sha" ]; then
			echo "$sha  $deb" | sha256sum -c --quiet - >&2 ||
				die "sha256 of $(basename "$deb") does not match the pin"
		fi
		x=$(mktemp -d)
		dpkg-deb -x "$deb" "$x"
		mkdir -p "${cfg%/*}"
		xzcat "$x/usr/src/$DISTRO_CONFIG_PKG/config.$flav.xz" > "$cfg.tmp"
		mv "$cfg.tmp" "$cfg"
		rm -rf "$x"
	fi
fi
echo "$cfg"
