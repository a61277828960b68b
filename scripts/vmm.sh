#!/bin/bash
# The real VMM of the arm64-qemu machine: Debian's arm64 QEMU 11.1.3
# (trixie-backports) and its UEFI firmware, as an L1 userspace, downloaded
# and unpacked on the host without running arm64 code and without touching
# the host's packages (the private apt configuration of lib.sh, arm64 as
# its only architecture; dpkg-deb -x, no maintainer scripts).
#
#   vmm.sh root    prints the unpacked userspace ($CACHE/vmm/root-SUM), made
#                  once per lock file
#   vmm.sh lock    resolves the packages anew (newest in trixie-backports,
#                  dependencies from trixie) and rewrites vm/arm64-qemu.lock
#
# vm/arm64-qemu.lock pins every package: name, version, sha256 of the .deb.
# A pinned version Debian no longer has makes the whole set be resolved
# anew, with a loud warning, as the base does: a package whose version is
# still the pinned one keeps its sha256 check, the others have none.  A
# .deb whose sha256 differs from the pin is an error, and so is a failed
# download of versions Debian still has.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

LOCK=$TOP/vm/arm64-qemu.lock
VMM=$CACHE/vmm
DL=$CACHE/dl/vmm
# What QEMU needs to be the L1 VMM; Recommends are left out.
PKGS="qemu-system-arm qemu-system-common qemu-system-data qemu-efi-aarch64"
SUITE=trixie-backports
aapt() {
	dapt "$@" -o APT::Architecture=arm64 -o APT::Architectures::=arm64
}

# NAME VERSION lines of the whole set, resolved anew.
resolve() {
	dapt_update || die "Debian's archive is unreachable"
	# shellcheck disable=SC2086
	aapt apt-get install -qq --print-uris -t "$SUITE" --no-install-recommends $PKGS |
		awk '{print $2}' | sed 's/%3a/:/g' |
		sed -E 's/^([^_]*)_([^_]*)_[^_]*\.deb$/\1 \2/'
}

# download NAME VERSION...: the .debs into $DL (kept), in one apt call.
download() {
	local want=() n v
	while read -r n v; do
		[ -n "$(deb_of "$n" "$v")" ] || want+=("$n=$v")
	done
	[ ${#want[@]} = 0 ] && return 0
	mkdir -p "$DL"
	log "downloading ${#want[@]} Debian arm64 packages (QEMU, its libraries, UEFI)"
	(cd "$DL" && aapt apt-get download -q "${want[@]}" >/dev/null 2>&1) ||
		{ dapt_update && (cd "$DL" && aapt apt-get download -q "${want[@]}" >/dev/null 2>&1); }
}
deb_of() {	# the downloaded .deb of NAME VERSION, if any
	local e=${2//:/%3a}
	ls "$DL/${1}_${e}_"*.deb "$DL/${1}_${2}_"*.deb 2>/dev/null | head -1 || true
}

lock() {
	local n v f p
	resolve > "$VMM.set"
	for p in $PKGS; do
		grep -q "^$p " "$VMM.set" || die "$p is not in the resolved set"
	done
	download < "$VMM.set"
	{
		echo "# The arm64-qemu machine's L1 userspace: Debian's arm64 packages, pinned"
		echo "# (scripts/vmm.sh; regenerate with: bash scripts/vmm.sh lock)."
		echo "# NAME VERSION SHA256-OF-THE-DEB"
		while read -r n v; do
			f=$(deb_of "$n" "$v")
			[ -n "$f" ] || die "$n $v was not downloaded"
			echo "$n $v $(sha256sum "$f" | cut -d' ' -f1)"
		done < "$VMM.set"
	} > "$LOCK"
	rm -f "$VMM.set"
	log "wrote $LOCK ($(grep -vc '^#' "$LOCK") packages)"
}

# Every pinned .deb is here (downloaded now or before)?
have_all() {
	local n v
	while read -r n v _; do
		[ -n "$(deb_of "$n" "$v")" ] || return 1
	done < "$1"
}

root() {
	local sum dst set n v s f a pinned gone=0 unchecked=
	sum=$(cat "$LOCK" "$0" | sha256sum | cut -c1-16)
	dst=$VMM/root-$sum
	[ -f "$dst/.done" ] && { echo "$dst"; return 0; }
	mkdir -p "$VMM"
	set=$VMM/set
	grep -v '^#' "$LOCK" > "$set"
	cut -d' ' -f1,2 "$set" | download || true
	if ! have_all "$set"; then
		# Gone from Debian's archive, or only not reachable?
		dapt_update || die "Debian's archive is unreachable and the pinned QEMU is not cached"
		while read -r n v _; do
			aapt apt-cache madison "$n" 2>/dev/null | awk -F'|' '{ gsub(/ /, "", $2); print $2 }' |
				grep -qxF "$v" || { log "gone: $n $v"; gone=1; }
		done < "$set"
		[ $gone = 1 ] || die "downloading the pinned packages failed (vm/arm64-qemu.lock)"
		log "################################################################"
		log "WARNING: packages pinned in vm/arm64-qemu.lock are gone from"
		log "WARNING: Debian's archive; resolving QEMU and its libraries anew."
		log "WARNING: What still has its pinned version is checked; the rest"
		log "WARNING: is NOT. Move the pin: bash scripts/vmm.sh lock"
		log "################################################################"
		pinned=$VMM/pinned
		mv "$set" "$pinned"
		resolve | while read -r n v; do
			s=$(awk -v n="$n" -v v="$v" '$1 == n && $2 == v { print $3 }' "$pinned")
			echo "$n $v ${s:--}"
		done > "$set"
		rm -f "$pinned"
		cut -d' ' -f1,2 "$set" | download
		have_all "$set" || die "downloading QEMU and its libraries failed"
		# Never taken for a pinned set: unpacked anew, with the warning,
		# every time
		unchecked=1
		dst=$VMM/root-unpinned
	fi
	rm -rf "$dst"
	mkdir -p "$dst"
	while read -r n v s; do
		f=$(deb_of "$n" "$v")
		if [ "$s" != - ] && [ "$(sha256sum "$f" | cut -d' ' -f1)" != "$s" ]; then
			die "$f: sha256 differs from vm/arm64-qemu.lock"
		fi
		a=$(dpkg-deb -f "$f" Architecture)
		case "$a" in arm64|all) ;; *) die "$f: architecture $a, not arm64" ;; esac
		dpkg-deb -x "$f" "$dst"
	done < "$set"
	# Debian's layout is merged-/usr: the loader is /lib/ld-linux-aarch64.so.1
	# (bin and sbin stay the initramfs's own, busybox's)
	ln -s usr/lib "$dst/lib"
	# What the L1 VMM does not use: documentation, the 32-bit emulator, and
	# firmware images of other machines (QEMU_EFI.fd is the one it boots)
	rm -rf "$dst"/usr/share/{doc,man,locale,lintian,bug} "$dst/usr/bin/qemu-system-arm"
	find "$dst/usr/share/qemu" "$dst/usr/share/AAVMF" "$dst/usr/share/qemu-efi-aarch64" \
		\( -name '*.fd' -o -name '*.bin' -o -name '*.rom' -o -name '*.img' \) \
		-not -name QEMU_EFI.fd -delete 2>/dev/null || true
	[ -x "$dst/usr/bin/qemu-system-aarch64" ] || die "no qemu-system-aarch64 in $dst"
	[ -f "$dst/usr/share/qemu-efi-aarch64/QEMU_EFI.fd" ] || die "no QEMU_EFI.fd in $dst"
	if [ -z "$unchecked" ]; then
		touch "$dst/.done"
		# Older unpacked sets go
		find "$VMM" -maxdepth 1 -name 'root-*' -not -name "root-$sum" -exec rm -rf {} +
	fi
	echo "$dst"
}

case "${1:-}" in
root) root ;;
lock) lock ;;
*) die "usage: vmm.sh root|lock" ;;
esac
