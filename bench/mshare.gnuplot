# SPDX-License-Identifier: GPL-2.0
# Page-table kB against the number of processes mapping a touched 1 GiB.
set terminal pngcairo size 800,560 noenhanced
set output png
set datafile separator ","
set logscale xy
set xlabel "processes mapping 1 GiB"
set ylabel "page-table kB (PageTables delta, log)"
set title "Page-table memory: mshare vs MAP_SHARED memfd and hugetlbfs".(exists("rel") ? ", ".rel : "")
set key below
set grid
set xtics (1, 8, 64)
plot "< grep '^pt_kb_memfd_' ".csv." | sed 's/pt_kb_memfd_//'" u 1:2 w lp lw 2 t "memfd", \
     "< grep '^pt_kb_mshare_[0-9]' ".csv." | sed 's/pt_kb_mshare_//'" u 1:2 w lp lw 2 t "mshare (PMD tables shared)", \
     "< grep '^pt_kb_mshare_pte_' ".csv." | sed 's/pt_kb_mshare_pte_//'" u 1:2 w lp lw 2 t "mshare, pmd_sharing=N (PTE tables shared)", \
     "< grep '^pt_kb_hugetlb_' ".csv." | sed 's/pt_kb_hugetlb_//'" u 1:2 w lp lw 2 t "hugetlbfs 2 MiB, 1 GiB aligned (PMD tables shared by hugetlb)", \
     "< grep '^pt_kb_ideal_' ".csv." | sed 's/pt_kb_ideal_//'" u 1:2 w l dt 2 t "one set of tables + 1 PMD page each"
