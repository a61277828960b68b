#!/bin/bash
# Mainline's source, for what runs mainline's own code against the series
# as an external program (like QEMU): never copied into the series or the
# harness, only downloaded, built and run.
#
#   mainline.sh src                  prints the unpacked tree (made once)
#   mainline.sh selftests ARCH DIR   builds mainline's iommu selftests
#                                    (iommufd, iommufd_fail_nth) into DIR,
#                                    and bench/iommufd_bench.c against
#                                    mainline's headers
#
# The source is Debian's linux-source-7.3 from trixie-backports, pinned to
# MAINLINE_VERSION and the sha256 of its tarball (scripts/lib.sh); if that
# version can no longer be downloaded, the newest linux-source-7.* is taken
# with a loud warning and no sha256 check, as the base does.
#
# The selftests are built as mainline builds them (its own Makefile and
# lib.mk), statically, against mainline's OWN uAPI headers (headers_install
# of that tree) and its own mock-driver ABI (its iommufd_test.h): binaries
# a mainline user would have, never the series' headers.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

MAINLINE_DIR=$CACHE/mainline

# The unpacked tree of VERSION, made once ($MAINLINE_DIR/linux-VERSION).
unpack() {
	local version=$1 sha=$2 pkg deb x tarball dst
	dst=$MAINLINE_DIR/linux-${version//\~/_}
	[ -f "$dst/.unpacked" ] && { echo "$dst"; return 0; }
	pkg=$(echo "$version" | sed -n 's/^\([0-9]*\.[0-9]*\)\..*/linux-source-\1/p')
	[ -n "$pkg" ] || return 1
	local dl=$CACHE/dl
	deb=$(ls "$dl/${pkg}_${version//\~/%7e}_all.deb" "$dl/${pkg}_${version}_all.deb" 2>/dev/null | head -1 || true)
	if [ -z "$deb" ]; then
		log "downloading $pkg=$version"
		dapt_download "$pkg" "$version" "$dl" || return 1
		deb=$(ls "$dl/${pkg}_${version//\~/%7e}_all.deb" "$dl/${pkg}_${version}_all.deb" 2>/dev/null | head -1 || true)
		[ -n "$deb" ] || return 1
	fi
	tarball=$(deb_tarball "$deb" "usr/src/$pkg.tar.xz" "$sha" "$pkg.tar.xz ($version)") || exit $?
	x=${tarball%/usr/src/*}
	log "unpacking $pkg $version"
	rm -rf "$dst"
	mkdir -p "$dst"
	tar -C "$dst" --strip-components=1 -xf "$tarball"
	rm -rf "$x"
	echo "$version" > "$dst/.unpacked"
	echo "$dst"
}

src() {
	local d v rc=0
	d=$(unpack "$MAINLINE_VERSION" "$MAINLINE_SHA256") || rc=$?
	if [ $rc = 0 ]; then
		echo "$d"
		return 0
	fi
	# The pinned tarball is there but not what was pinned: never fall back
	[ $rc = 2 ] && exit 2
	dapt_update || die "Debian's archive is unreachable and $MAINLINE_VERSION is not cached"
	v=$(dapt apt-cache madison linux-source 2>/dev/null | awk '{print $3}' |
		grep '^7\.' | sort -V | tail -1 || true)
	[ -n "$v" ] || die "no linux-source-7.* in Debian's archive"
	log "################################################################"
	log "WARNING: mainline source $MAINLINE_VERSION is gone from Debian's"
	log "WARNING: archive; using $v WITHOUT a sha256 check. Move the pin"
	log "WARNING: (MAINLINE_VERSION, MAINLINE_SHA256 in scripts/lib.sh)."
	log "################################################################"
	unpack "$v" "" || die "cannot download linux-source for $v"
}

selftests() {
	local arch=$1 out=$2 tree karch cross hdr capinc=() caplib=()
	tree=$(src)
	case "$arch" in
	x86_64) karch=x86_64; cross= ;;
	arm64) karch=arm64; cross=aarch64-linux-gnu-
		# libcap for arm64, unpacked by deps.sh
		capinc=(-isystem "$CACHE/libcap-arm64/usr/include")
		caplib=(-L "$CACHE/libcap-arm64/usr/lib/aarch64-linux-gnu") ;;
	*) die "unknown ARCH $arch" ;;
	esac
	hdr=$CACHE/build-mainline/$arch
	mkdir -p "$hdr"
	if [ ! -f "$hdr/hdr/include/linux/iommufd.h" ] || [ "$(cat "$hdr/from" 2>/dev/null)" != "$tree" ]; then
		rm -rf "$hdr/hdr"
		make -s -C "$tree" O="$hdr/o" ARCH="$karch" headers_install \
			INSTALL_HDR_PATH="$hdr/hdr" >/dev/null
		echo "$tree" > "$hdr/from"
	fi
	rm -rf "$out"
	mkdir -p "$out"
	CFLAGS="-static ${capinc[*]}" LDFLAGS="-static ${caplib[*]}" \
		make -B -s -C "$tree/tools/testing/selftests/iommu" \
		ARCH="$karch" CROSS_COMPILE="$cross" CC="${cross}gcc" \
		KHDR_INCLUDES="-isystem $hdr/hdr/include" OUTPUT="$out" all
	cat "$tree/.unpacked" > "$out/VERSION"
	log "$arch: mainline $(cat "$out/VERSION") selftests in $out"
	# The harness's benchmark (bench/), against the same headers and mock
	# ABI: the same binary runs on the series and on mainline
	"${cross}gcc" -static -O2 -Wall -Wextra -Werror -isystem "$hdr/hdr/include" \
		-I "$tree/drivers/iommu/iommufd" -o "$out/iommufd_bench" \
		"$TOP/bench/iommufd_bench.c"
}

case "${1:-}" in
src) src ;;
selftests) selftests "${2:?ARCH}" "${3:?DIR}" ;;
*) die "usage: mainline.sh src | selftests ARCH DIR" ;;
esac
