#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# make bench: run every bench/<module>_bench program in one guest on the
# 6.1 stock kernel (KERNEL=6.12, 7.3: that line's; KERNEL=debug: the debug
# kernel, for correctness rather than figures; the module it measures
# loaded), collect its
# "BENCH,<bench>,<metric>,<value>,<unit>" lines into results/bench/*.csv,
# print the ratios and render one PNG per benchmark with gnuplot.
#   scripts/bench.sh [name...]    (make bench BENCH=mshare): only those
set -eu
. "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"
kernel=$(kernel_name "${KERNEL:-stock}") || exit 1
# results/bench for the 6.1 stock kernel, results/bench-<kernel> for others.
res=results/bench
[ "$kernel" = "$(kernel_name stock)" ] || res=$res-$kernel
out=$REPO_ROOT/$res
[ $# -gt 0 ] || rm -rf "$out"	# a named subset keeps the others' results
mkdir -p "$out"

make -s -C bench
make -s tools
# PostgreSQL (issue 13) only when named: it stages some 80 MB of Debian
# packages into the guest and runs for a long time.
rm -rf bench/out/pgroot bench/out/postgres_bench bench/out/postgres.conf
timeout=3600
case " $* " in
*" postgres "*)
	timeout=9000	# scale 50 and 64 clients under TCG: well over an hour
	scripts/postgres-root.sh bench/out/pgroot
	install -m 755 bench/postgres_bench.sh bench/out/postgres_bench
	env | grep -E '^PG_(SCALE|SB|CLIENTS|MEASURE|MODES|RW)=' |
		sed "s/=\(.*\)/='\1'/" > bench/out/postgres.conf || true
	;;
esac
list=/bench/*_bench
[ $# -gt 0 ] && list=$(printf '/bench/%s_bench ' "$@")
# A benchmark of a module not built for this kernel (PostgreSQL runs on
# mshare) says so and is left out.
guest='for b in '"$list"'; do
	m=${b##*/}; m=${m%_bench}
	k=$m; [ "$m" = postgres ] && k=mshare
	if [ ! -f /lib/mmsuite/$k.ko ]; then
		echo "# $b: not run: $k not built for $(uname -r)"
		continue
	fi
	[ -f /lib/mmsuite/$m.ko ] && insmod /lib/mmsuite/$m.ko
	echo "# $b"; $b || echo "BENCH,$m,failed,1,"
done'
scripts/vm.sh --kernel "$kernel" --paging "${PAGING:-5}" --mem 4096 \
	--timeout "$timeout" --out "$out/vm" "$guest"

grep '^BENCH,' "$out/vm/output.txt" > "$out/all.csv" ||
	die "no benchmark results"
# The plots' titles name the guest's kernel release.
rel=$(sed -n 's/.*Linux version \([^ ]*\).*/\1/p' "$out/vm/console.log" | head -n 1)
for bench in $(cut -d, -f2 "$out/all.csv" | sort -u); do
	grep "^BENCH,$bench," "$out/all.csv" | cut -d, -f3- > "$out/$bench.csv"
	echo "== $bench ($res/$bench.csv)"
	column -t -s, "$out/$bench.csv"
	plot="$REPO_ROOT/bench/$bench.gnuplot"
	# PG_MODES= (a correctness run alone) leaves nothing to plot.
	if [ "$bench" = postgres ] && ! grep -q '^pt_kb_' "$out/$bench.csv"; then
		plot=
	fi
	if [ -f "$plot" ]; then
		(cd "$out" && gnuplot -e "csv='$bench.csv'; png='$bench.png'; rel='$rel'" "$plot") &&
			echo "plot: $res/$bench.png"
	fi
done
# Each benchmark's goals and anchors ("# goal:", "# anchor:" lines).
grep -E '^# (goal|anchor):' "$out/vm/output.txt" > "$out/goals.txt" || true
if [ -s "$out/goals.txt" ]; then
	echo "== goals ($res/goals.txt)"
	cat "$out/goals.txt"
fi
if grep -q ',failed,' "$out/all.csv"; then
	die "a benchmark failed"
fi
