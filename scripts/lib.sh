# SPDX-License-Identifier: GPL-2.0
# Shared helpers for the scripts; sourced, never run.

REPO_ROOT=$(cd "$(dirname "$0")/.." && pwd)
CACHE_DIR=${MMSUITE_CACHE:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/mmsuite}
KSRC_TARBALL=/usr/src/linux-source-6.1.tar.xz

# In a command substitution die() ends only the subshell: callers that
# take a value with $(...) check its status ("v=$(f) || exit 1"; a bare
# assignment fails under set -e, an argument does not).
die() {
	echo "error: $*" >&2
	exit 1
}

# The newest installed Debian amd64 kernel image, e.g. 6.1.0-56-amd64.
stock_kernel_release() {
	# shellcheck disable=SC2012
	rel=$(ls /boot/vmlinuz-*-amd64 2>/dev/null | sed 's|.*/vmlinuz-||' |
	      sort -V | tail -n 1)
	[ -n "$rel" ] || die "no /boot/vmlinuz-*-amd64: run scripts/install-deps.sh"
	echo "$rel"
}

stock_kdir() {
	d=/usr/src/linux-headers-$(stock_kernel_release) || exit 1
	[ -d "$d" ] || die "$d missing: run scripts/install-deps.sh"
	echo "$d"
}

ksrc_version() {
	dpkg-query -W -f='${Version}' linux-source-6.1 2>/dev/null ||
		die "linux-source-6.1 not installed: run scripts/install-deps.sh"
}

# Files from the kernel source package that the build uses (kselftest
# headers, checkpatch), unpacked once per source version.
ksrc_extract_dir() {
	v=$(ksrc_version) || exit 1
	echo "$CACHE_DIR/ksrc-$v"
}

KSRC_FILES="tools/testing/selftests/kselftest.h
tools/testing/selftests/kselftest_harness.h
tools/testing/selftests/run_kselftest.sh
tools/testing/selftests/kselftest/runner.sh
tools/testing/selftests/kselftest/prefix.pl
tools/testing/selftests/kselftest/module.sh
scripts/checkpatch.pl
scripts/spelling.txt
scripts/const_structs.checkpatch"

ensure_ksrc_extract() {
	d=$(ksrc_extract_dir) || exit 1
	missing=""
	for f in $KSRC_FILES; do
		[ -f "$d/$f" ] || missing="$missing linux-source-6.1/$f"
	done
	if [ -n "$missing" ]; then
		mkdir -p "$d"
		# shellcheck disable=SC2086
		tar -xJf "$KSRC_TARBALL" -C "$d" --strip-components=1 $missing
	fi
	echo "$d"
}

# Cache key of a line's debug kernel: source version, fragments, recipe.
debug_kernel_key() {	# debug_kernel_key <line>
	h=$(cat "$REPO_ROOT"/scripts/kconfig/*.config \
		"$REPO_ROOT/scripts/debug-kernel.sh" | sha256sum | cut -c1-12)
	if [ "$(line_field "$1" 3)" = system ]; then
		v=$(ksrc_version) || exit 1
	else
		d=$("$REPO_ROOT/scripts/kernel-line.sh" "$1") || exit 1
		v=$(cat "$d/release")
	fi
	echo "$v-$h"
}

debug_kdir() {	# debug_kdir <line>
	k=$(debug_kernel_key "$1") || exit 1
	echo "$CACHE_DIR/debug-kernel/$1/$k/linux"
}

# The linux-source tarball of a line: the machine's own for the system
# line; else linux-source-<line> of exactly the release's version, fetched
# once into the line's cache (fetch_line_source, also kernel-line.sh's).
fetch_line_source() {	# fetch_line_source <line dir> <line> <release>
	t=$1/linux-source-$2.tar.xz
	if [ ! -f "$t" ]; then
		ver=$(private_apt "$1" apt-cache show "linux-headers-$3" |
		      sed -n 's/^Version: //p' | head -n 1)
		[ -n "$ver" ] || die "no version of linux-headers-$3 in $1/apt"
		mkdir -p "$1/debs"
		(cd "$1/debs" && private_apt "$1" apt-get download "linux-source-$2=$ver" >&2) ||
			die "download of linux-source-$2=$ver failed"
		dpkg-deb --fsys-tarfile "$1"/debs/linux-source-"$2"_*.deb |
			tar -xO --wildcards './usr/src/linux-source-*.tar.xz' > "$t.tmp"
		mv "$t.tmp" "$t"
		rm -f "$1"/debs/linux-source-"$2"_*.deb
	fi
	echo "$t"
}

line_source_tarball() {	# line_source_tarball <line>
	if [ "$(line_field "$1" 3)" = system ]; then
		[ -f "$KSRC_TARBALL" ] || die "$KSRC_TARBALL missing: run scripts/install-deps.sh"
		echo "$KSRC_TARBALL"
	else
		d=$("$REPO_ROOT/scripts/kernel-line.sh" "$1") || exit 1
		fetch_line_source "$d" "$1" "$(cat "$d/release")"
	fi
}

# The configuration of a line's Debian kernel.
line_debian_config() {	# line_debian_config <line>
	d=$("$REPO_ROOT/scripts/kernel-line.sh" "$1") || exit 1
	[ -f "$d/kdir/.config" ] || die "no .config in the build directory of $1"
	echo "$d/kdir/.config"
}

now() {
	date +%s
}

# Kernel lines (scripts/kernels.conf). A kernel name is a line (6.1,
# 6.12, 7.3) or a line's debug kernel (7.3-debug); "stock" and "debug"
# name the oldest line's, as before there were lines.
KERNELS_CONF=$REPO_ROOT/scripts/kernels.conf

lines() {
	sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$KERNELS_CONF" | awk '{ print $1 }'
}

newest_line() {
	lines | sort -V | tail -n 1
}

line_field() {	# line_field <line> <field number>
	v=$(sed -e 's/#.*//' "$KERNELS_CONF" | awk -v l="$1" -v f="$2" '$1 == l { print $f }')
	[ -n "$v" ] || die "kernel line '$1' is not in scripts/kernels.conf (lines: $(lines | tr '\n' ' '))"
	echo "$v"
}

kernel_name() {	# kernel_name <name>: canonical <line> or <line>-debug
	case "$1" in
	stock) lines | head -n 1 ;;
	debug) echo "$(lines | head -n 1)-debug" ;;
	*-debug) line_field "${1%-debug}" 1 >/dev/null && echo "$1" ;;
	*) line_field "$1" 1 >/dev/null && echo "$1" ;;
	esac
}

is_debug_kernel() {
	case "$1" in *-debug|debug) return 0 ;; esac
	return 1
}

# The build directory of a kernel, fetching or building it first.
kernel_kdir() {
	k=$(kernel_name "$1") || exit 1
	if is_debug_kernel "$k"; then
		"$REPO_ROOT/scripts/debug-kernel.sh" "${k%-debug}"
	else
		d=$("$REPO_ROOT/scripts/kernel-line.sh" "$k") || exit 1
		cd "$d/kdir" && pwd -P
	fi
}

# The project's modules in the tree that were built for <release>.
built_modules() {
	for ko in $(find "$REPO_ROOT/mm" "$REPO_ROOT/drivers" -name '*.ko' 2>/dev/null); do
		v=$(/sbin/modinfo -F vermagic "$ko" 2>/dev/null)
		[ "${v%% *}" = "$1" ] && echo "$ko"
	done
}

# The selftest suites whose modules are built for <release>: a suite
# named after a module needs it; a suite of no module of its own
# (mshare_preload) needs the modules its "requires" file names, which for
# the others are loaded when built. Prints "skip <suite> <module>..." for
# the suites that cannot run.
suites_for() {
	mods=$(built_modules "$1" | sed 's|.*/||; s|\.ko$||')
	for s in $(cd "$REPO_ROOT/selftests/out" && for d in */settings; do echo "${d%/settings}"; done); do
		if [ -d "$REPO_ROOT/mm/$s" ] || [ -d "$REPO_ROOT/drivers/$s" ]; then
			need=$s
		else
			need=$(cat "$REPO_ROOT/selftests/$s/requires" 2>/dev/null || true)
		fi
		missing=""
		for m in $need; do
			echo "$mods" | grep -qx "$m" || missing="$missing $m"
		done
		if [ -z "$missing" ]; then
			echo "$s"
		else
			echo "skip $s$missing"
		fi
	done
}

# A private apt state in <dir>/apt, for fetching from another Debian suite
# without touching the machine's apt configuration:
#   private_apt_init <dir> "<sources.list line>"   (then runs update)
#   private_apt <dir> apt-get|apt-cache <args...>
private_apt() {
	_pa_dir=$1
	_pa_cmd=$2
	shift 2
	"$_pa_cmd" -q -o Dir::Etc::SourceList="$_pa_dir/apt/sources.list" \
		-o Dir::Etc::SourceParts=/dev/null -o Dir::State::Lists="$_pa_dir/apt/lists" \
		-o Dir::Cache="$_pa_dir/apt/cache" -o Dir::State::Status=/dev/null \
		-o APT::Sandbox::User=root "$@"
}

private_apt_init() {
	mkdir -p "$1/apt/lists/partial" "$1/apt/cache/archives/partial"
	echo "$2" > "$1/apt/sources.list"
	private_apt "$1" apt-get update >&2 || die "apt-get update for '$2' failed"
}
