# Shared settings for the pipeline scripts (sourced, not run).
# shellcheck shell=bash
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${CACHE:-$HOME/.cache/iommufd-nesting}
# The base: Debian's linux-source-6.12, pinned.
BASE_PKG=linux-source-6.12
BASE_VERSION=${BASE_VERSION:-6.12.117-1~deb12u1}
BASE_SHA256=${BASE_SHA256:-585a4a074597aefa2b1a68ada83a3184ba351c127544dea80618bbcceaa3961f}
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
SERIES_DIR=$TOP/series
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
