# SPDX-License-Identifier: GPL-2.0
# Entries per second: the pagemap route against ptwalk (log scale).
set terminal pngcairo size 800,480 noenhanced
set output png
set datafile separator ","
set style data histograms
set style fill solid 0.8
set logscale y
set ylabel "page-table entries per second (log)"
set title "A 1 GiB mapping (262144 PTEs); census: 64 processes x 1 GiB memfd".(exists("rel") ? ", ".rel : "")
set boxwidth 0.6
set grid ytics
set xtics rotate by 30 right
set bmargin 6
plot "< grep '_rate,' ".csv u 2:xticlabels(substr(strcol(1), 1, strlen(strcol(1)) - 5)) notitle lc rgb "#3070b0"
