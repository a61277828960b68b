# Shared settings for the pipeline scripts (sourced, not run).
# shellcheck shell=bash
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${CACHE:-$HOME/.cache/iommufd-nesting}
# The base: Debian's linux-source-6.12, pinned (version, and the sha256 of
# its tarball).  scripts/stable-check.sh says when Debian has a newer one.
BASE_PKG=linux-source-6.12
BASE_VERSION=${BASE_VERSION:-6.12.118-1~deb12u1}
BASE_SHA256=${BASE_SHA256:-c93391b6a4884e6428ffbfbb8ce6340229ad28dc421e9f19bc081740b1ab34b2}
# Debian's own kernel configuration of that version (linux-config-6.12, one
# package per architecture): the distribution machines start from it.
# Pinned: the sha256 of each package.
DISTRO_CONFIG_PKG=linux-config-6.12
DISTRO_CONFIG_VERSION=${DISTRO_CONFIG_VERSION:-6.12.118-1~deb12u1}
DISTRO_CONFIG_SHA256_amd64=4f58707e3f8933f7f5c8efcdbdc38f44bc008293f931663ca4cccf2ee88d457d
DISTRO_CONFIG_SHA256_arm64=4020f2c4d3bd613a29f8b5bef0c02a13f868a0c0c26cf19c36fe577c05e1f575
# Mainline's source (Debian's linux-source-7.3, trixie-backports), pinned
# the same way: scripts/mainline.sh; the conformance suite builds mainline's
# own selftests from it.
MAINLINE_VERSION=${MAINLINE_VERSION:-7.3.4-1~bpo13+1}
MAINLINE_SHA256=${MAINLINE_SHA256:-76df1affb19f24926949369be1d74b60071c963c598ce8780bddd4bbf0fc3bc4}
mkdir -p "$CACHE"
log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
# The git tree holding only the base commit (tag "base").
BASE_REPO=$CACHE/linux-base
# The project identity: authors, signs off and commits the series.
IDENT_NAME="iommufd-nesting"
IDENT_EMAIL="devel@iommufd-nesting.invalid"
die() { log "ERROR: $*"; exit 1; }
# git in a tree, as the project identity, with stable dates where asked.
# No global or system git config: format-patch and am give the same result
# for every developer (format.thread, format.signOff, ... would change it).
tgit() {
	local d=$1
	shift
	GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1 \
		git -C "$d" -c user.name="$IDENT_NAME" -c user.email="$IDENT_EMAIL" "$@"
}
# Trees: the developer's (make tree / make export) and the one make check
# builds from the committed series.  LINUX_TREE names a user's own 6.12.y
# git tree instead: the series is applied there on branch iommufd-nesting.
DEV_TREE=${DEV_TREE:-$CACHE/linux}
CHECK_TREE=${CHECK_TREE:-$CACHE/check-linux}
SERIES_DIR=${SERIES_DIR:-$TOP/series}
# Kernel builds: fixed version strings, one ccache for all trees.
export KBUILD_BUILD_TIMESTAMP="2000-01-01" KBUILD_BUILD_USER=iommufd KBUILD_BUILD_HOST=nesting
export CCACHE_DIR=${CCACHE_DIR:-$CACHE/ccache} CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-8G}
export CCACHE_NOHASHDIR=1 CCACHE_SLOPPINESS=time_macros,include_file_mtime,include_file_ctime
# Apply the series to a tree that only the harness uses (check, demo,
# bisect): always reset to series/, whatever it held.  A user's own tree
# (LINUX_TREE) keeps the guards of tree.sh.
own_tree() {
	if [ -n "${LINUX_TREE:-}" ]; then
		bash "$TOP/scripts/tree.sh" "$@"
	else
		FORCE=1 bash "$TOP/scripts/tree.sh" "$@"
	fi
}
# One harness run at a time per cache: check, demo and bisect share trees,
# build directories and results.
lock_cache() {
	exec 9>"$CACHE/.lock"
	flock -n 9 || { log "waiting for another run on $CACHE"; flock 9; }
}
# The base ref of a tree: "base", or the user's tree's recorded base.
base_ref() {
	if git -C "$1" rev-parse -q --verify iommufd-nesting-base >/dev/null; then
		echo iommufd-nesting-base
	else
		echo base
	fi
}
# Debian's archive through a private apt configuration in $CACHE/apt (its
# own sources, lists and cache), never the host's: the base, Debian's
# kernel configs and the check for newer 6.12.y come from bookworm,
# bookworm-security, trixie and trixie-security, mainline's source (the
# conformance suite) from trixie-backports; for amd64 and arm64.
# dapt apt-get|apt-cache ARGS...; dapt_update refreshes its lists.
DAPT=$CACHE/apt
dapt_sources() {
	local k=/usr/share/keyrings/debian-archive-keyring.gpg
	cat <<SRC
deb [signed-by=$k] http://deb.debian.org/debian bookworm main
deb [signed-by=$k] http://deb.debian.org/debian-security bookworm-security main
deb [signed-by=$k] http://deb.debian.org/debian trixie main
deb [signed-by=$k] http://deb.debian.org/debian-security trixie-security main
deb [signed-by=$k] http://deb.debian.org/debian trixie-backports main
SRC
}
dapt_setup() {
	# A cache made before a suite was added gets the new list (and new
	# lists: dapt_update sees the missing ones as stale).
	if [ -f "$DAPT/apt.conf" ]; then
		[ "$(cat "$DAPT/etc/sources.list")" = "$(dapt_sources)" ] && return 0
		dapt_sources > "$DAPT/etc/sources.list"
		rm -f "$DAPT"/lists/*_Packages*
		return 0
	fi
	mkdir -p "$DAPT/lists/partial" "$DAPT/cache/archives/partial" "$DAPT/etc"
	dapt_sources > "$DAPT/etc/sources.list"
	cat > "$DAPT/apt.conf.tmp" <<CONF
Dir::Etc::sourcelist "$DAPT/etc/sources.list";
Dir::Etc::sourceparts "-";
Dir::Etc::preferences "/dev/null";
Dir::Etc::preferencesparts "-";
Dir::State::Lists "$DAPT/lists";
Dir::State::status "/dev/null";
Dir::Cache "$DAPT/cache";
APT::Architectures { "amd64"; "arm64"; };
Acquire::Languages "none";
Acquire::IndexTargets::deb::Contents-deb::DefaultEnabled "false";
APT::Sandbox::User "root";
Debug::NoLocking "true";
CONF
	mv "$DAPT/apt.conf.tmp" "$DAPT/apt.conf"
}
dapt() {
	dapt_setup
	APT_CONFIG=$DAPT/apt.conf "$@"
}
# Refresh the lists at most once per RUN (an hour): a harness run asks
# several times.
dapt_update() {
	dapt_setup
	if [ -z "$(find "$DAPT/lists" -maxdepth 1 -name '*_Packages*' -mmin -60 2>/dev/null | head -1)" ]; then
		dapt apt-get update -q >/dev/null 2>&1 || return 1
		touch "$DAPT/lists"/*_Packages* 2>/dev/null || true
	fi
}
# dapt_download PKG[:ARCH] VERSION DIR: the .deb into DIR (kept there).
dapt_download() {
	local pkg=$1 ver=$2 dir=$3
	mkdir -p "$dir"
	(cd "$dir" && dapt apt-get download -q "$pkg=$ver" >/dev/null 2>&1) ||
		{ dapt_update && (cd "$dir" && dapt apt-get download -q "$pkg=$ver" >/dev/null 2>&1); }
}
# Debian's newest version of PKG (dpkg's order), from the private lists.
dapt_newest() {
	local best= v
	for v in $(dapt apt-cache madison "$1" 2>/dev/null | awk '{print $3}' | sort -u); do
		if [ -z "$best" ] || dpkg --compare-versions "$v" gt "$best"; then best=$v; fi
	done
	echo "$best"
}
# series_added_lines TREE BASE: path:line of every line the series (branch
# iommufd-nesting) adds or changes over BASE; sparse.sh and warn-check.sh
# judge reports by it.
series_added_lines() {
	git -C "$1" diff -U0 "$2" iommufd-nesting | awk '
		/^\+\+\+ b\// { f = substr($0, 7); next }
		/^@@ / { split($3, a, ","); s = substr(a[1], 2); n = (a[2] == "") ? 1 : a[2]
			 for (i = 0; i < n; i++) print f ":" s + i }'
}
# deb_tarball DEB PATH SHA256 WHAT: extract PATH (a tarball inside the
# package) into a new directory under $CACHE and print the tarball's path;
# exits 2 if SHA256 is given and the tarball's differs (WHAT names it).
deb_tarball() {
	local x
	x=$(mktemp -d "$CACHE/extract.XXXXXX")
	dpkg-deb --fsys-tarfile "$1" | tar -C "$x" -x "./$2"
	if [ -n "$3" ] && ! echo "$3  $x/$2" | sha256sum -c --quiet - >&2; then
		rm -rf "$x"
		log "ERROR: sha256 of $4 does not match the pin"
		exit 2
	fi
	echo "$x/$2"
}
