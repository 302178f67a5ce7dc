# SPDX-License-Identifier: GPL-2.0
# Toy allocators against the kernel's, same guest run: time ratio per pair.
set terminal pngcairo size 800,480 noenhanced
set output png
set datafile separator ","
set style data histograms
set style fill solid 0.8
set ylabel "toy / real (ns per alloc+free pair)"
set title "toyalloc vs the page allocator and SLUB (1 = parity, lower is faster)".(exists("rel") ? ", ".rel : "")
set boxwidth 0.6
set grid ytics
set yrange [0:*]
plot "< grep '_ratio,' ".csv." | sed 's/_ratio//'" u 2:xticlabels(1) notitle lc rgb "#3070b0", \
     1 w l dt 2 lc rgb "black" notitle
