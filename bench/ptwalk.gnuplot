# SPDX-License-Identifier: GPL-2.0
# Entries per second: the pagemap route against ptwalk (log scale).
set terminal pngcairo size 800,480 noenhanced
set output png
set datafile separator ","
set style data histograms
set style fill solid 0.8
set logscale y
set ylabel "page-table entries per second (log)"
set title "Entries per second: a populated 1 GiB mapping (262144 4K PTEs); census: 64 processes x one 1 GiB memfd"
set boxwidth 0.6
set grid ytics
plot "< grep '_rate,' ".csv u 2:xticlabels(1) notitle lc rgb "#3070b0"
