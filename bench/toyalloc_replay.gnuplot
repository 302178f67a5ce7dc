# SPDX-License-Identifier: GPL-2.0
# Replay of a kmem:mm_page_alloc/free trace recorded in the guest:
# unusable free space index over the trace, per free-list policy.
set terminal pngcairo size 900,640 noenhanced
set output png
set datafile separator ","
set multiplot layout 2,1 title "Toy buddy replaying a recorded page trace".(exists("rel") ? ", ".rel : "")
set grid
set key top left
set ylabel "unusable index, order 3"
plot for [p in "lifo fifo addr"] "< grep '^".p.",' ".csv u 2:($3/1000.0) w l lw 2 t p
set xlabel "trace events"
set ylabel "unusable index, order 9"
plot for [p in "lifo fifo addr"] "< grep '^".p.",' ".csv u 2:($4/1000.0) w l lw 2 t p
unset multiplot
