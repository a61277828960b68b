#!/bin/bash
# stable-check.sh LOG: does Debian have a newer 6.12.y than the pinned base,
# and does the series still apply to it?  Appends a suite "stable-update"
# to LOG (the host's console log) with one case:
#   ok     the pin is Debian's newest 6.12.y;
#   ok     Debian has a newer 6.12.y and the series applies to it (said
#          loudly: @@NOTICE lines, which the report prints in a banner);
#   not ok Debian has a newer 6.12.y and the series does not apply to it
#          (the first patch that fails is named);
#   ok     Debian's archive could not be reached (said loudly).
# The newer version is imported into the base repository (base.sh import,
# tag debian-VERSION) and the series applied to it with git apply --cached,
# patch by patch as git am applies them, in a scratch index: no checkout.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
out=${1:?usage: stable-check.sh LOG}
note() { echo "@@NOTICE $*"; log "$*"; }
{
echo "@@SUITE stable-update"
echo "TAP version 13"
echo "1..1"
pin=${BASE_VERSION%%-*}
if ! dapt_update; then
	note "could not reach Debian's archive: whether a 6.12.y newer than the pin ($BASE_VERSION) exists is NOT known"
	echo "ok 1 newer 6.12.y: not checked (Debian's archive unreachable)"
else
	newest=$(dapt_newest "$BASE_PKG")
	# Of the builds of that 6.12.y, the one of the pin's suite (bookworm's
	# "~deb12u") if there is one
	fam=${BASE_VERSION##*~}
	fam=${fam%[0-9]*}
	same=$(dapt apt-cache madison "$BASE_PKG" 2>/dev/null | awk '{print $3}' | sort -u |
		grep -F "${newest%%-*}-" | grep -F "~$fam" | sort -V | tail -1 || true)
	[ -z "$same" ] || newest=$same
	if [ -z "$newest" ]; then
		echo "# no $BASE_PKG in Debian's archive"
		echo "not ok 1 newer 6.12.y: Debian's archive lists no $BASE_PKG"
	elif dpkg --compare-versions "${newest%%-*}" le "$pin"; then
		echo "ok 1 the pin $BASE_VERSION is Debian's newest 6.12.y (newest package $newest)"
	else
		note "Debian has Linux ${newest%%-*} ($BASE_PKG $newest), newer than the pinned base $BASE_VERSION"
		if ! commit=$(bash "$TOP/scripts/base.sh" import "$newest" 2>/dev/null); then
			note "$BASE_PKG $newest could not be downloaded: whether the series applies to it is NOT known"
			echo "ok 1 newer 6.12.y $newest: could not be downloaded"
		else
			idx=$(mktemp)
			export GIT_INDEX_FILE=$idx
			git -C "$BASE_REPO" read-tree "$commit"
			bad=
			while read -r p; do
				case "$p" in ''|'#'*) continue ;; esac
				if ! o=$(git -C "$BASE_REPO" apply --cached "$SERIES_DIR/$p" 2>&1); then
					bad=$p
					echo "$o" | head -20 | sed 's/^/# /'
					break
				fi
			done < "$SERIES_DIR/series"
			unset GIT_INDEX_FILE
			rm -f "$idx"
			if [ -z "$bad" ]; then
				note "the series applies to $newest: move the pin (BASE_VERSION, BASE_SHA256 in scripts/lib.sh)"
				echo "ok 1 newer 6.12.y $newest: the series applies to it"
			else
				note "the series does NOT apply to $newest: $bad fails"
				echo "not ok 1 newer 6.12.y $newest: the series does not apply ($bad)"
			fi
		fi
	fi
fi
echo "@@RC 0"
echo "@@END stable-update secs=0"
} >> "$out"
