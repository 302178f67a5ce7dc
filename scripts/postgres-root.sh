#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Stage PostgreSQL 15 and pgbench from Debian's packages for the test
# guest: the programs, the extension modules and share/ files they use and
# every library they link (ldd), at their paths, under DIR. The guest-side
# benchmark copies DIR over its root.
#
#   scripts/postgres-root.sh DIR
#
# Installed packages are used as they are. Otherwise the packages and any
# libraries missing here are downloaded with apt-get (--download-only, as
# root; no service is installed or started) and unpacked into
# ~/.cache/mmsuite/postgres-15/.
set -eu
. "$(dirname "$0")/lib.sh"
[ $# -eq 1 ] || die "usage: $0 DIR"
dest=$1
pkgs="postgresql-15 postgresql-client-15"

src=/
if [ ! -x /usr/lib/postgresql/15/bin/postgres ] ||
   [ ! -x /usr/lib/postgresql/15/bin/pgbench ]; then
	src=$HOME/.cache/mmsuite/postgres-15
	if [ ! -x "$src/usr/lib/postgresql/15/bin/postgres" ]; then
		[ "$(id -u)" -eq 0 ] ||
			die "PostgreSQL 15 is not installed; as root: apt-get install $pkgs"
		echo "postgres: downloading $pkgs" >&2
		apt-get install -y -qq --download-only --no-install-recommends $pkgs >&2 ||
			{ apt-get update -qq >&2 &&
			  apt-get install -y -qq --download-only --no-install-recommends $pkgs >&2; }
		rm -rf "$src.tmp"
		mkdir -p "$src.tmp"
		for deb in /var/cache/apt/archives/*.deb; do
			dpkg-deb -x "$deb" "$src.tmp"
		done
		rm -rf "$src"
		mv "$src.tmp" "$src"
	fi
fi
pg=$src/usr/lib/postgresql/15

rm -rf "$dest"
mkdir -p "$dest/usr/lib/postgresql/15/bin" "$dest/usr/lib/postgresql/15/lib" \
	"$dest/usr/share/postgresql" "$dest/usr/share/zoneinfo" "$dest/lib64"
for b in postgres initdb pg_ctl pgbench psql pg_amcheck; do
	cp "$pg/bin/$b" "$dest/usr/lib/postgresql/15/bin/"
done
# Extension modules (no JIT: llvmjit pulls in LLVM) and their SQL files.
for m in "$pg"/lib/*.so; do
	case "$m" in */llvmjit*) continue ;; esac
	cp "$m" "$dest/usr/lib/postgresql/15/lib/"
done
cp -r "$src/usr/share/postgresql/15" "$dest/usr/share/postgresql/"
cp -L /usr/share/zoneinfo/UTC "$dest/usr/share/zoneinfo/UTC"

# Every library any of them links, resolved here (unpacked ones first).
libpath=$src/usr/lib/x86_64-linux-gnu:$src/lib/x86_64-linux-gnu
find "$dest/usr/lib/postgresql/15" -type f \( -name '*.so' -o -perm -u+x \) |
while read -r f; do
	LD_LIBRARY_PATH=$libpath ldd "$f" 2>/dev/null |
		awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'
done | sort -u | while read -r lib; do
	case "$lib" in
	"$src"/*) rel=${lib#"$src"} ;;
	*) rel=$lib ;;
	esac
	mkdir -p "$dest$(dirname "$rel")"
	cp -L "$lib" "$dest$rel"
done
du -sh "$dest" | sed 's/^/postgres: staged /' >&2
