# SPDX-License-Identifier: GPL-2.0
# PostgreSQL select-only: page-table growth and TPS against clients, for
# plain 4 KiB shmem, huge_pages=on and libmshare-preload.so.
set terminal pngcairo size 1000,480 noenhanced
set output png
set datafile separator ","
set multiplot layout 1,2 title "PostgreSQL 15, pgbench select-only, every client has read every page of the table"
set key below
set grid
set xlabel "clients"
set logscale y
set ylabel "PageTables growth, kB (log)"
set title "page-table memory"
plot for [m in "plain huge preload"] "< grep '^pt_kb_".m."_' ".csv." | sed 's/^pt_kb_".m."_//'" u 1:2 w lp lw 2 t m
unset logscale y
set yrange [0:*]
set ylabel "transactions per second"
set title "throughput"
plot for [m in "plain huge preload"] "< grep '^tps_".m."_' ".csv." | sed 's/^tps_".m."_//'" u 1:2 w lp lw 2 t m
unset multiplot
