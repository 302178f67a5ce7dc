#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Summarise the KTAP of one or more guest runs (output.txt files written by
# scripts/vm.sh running run-selftests). Counts every test case a program
# reported; a program that failed without reporting a failing case (crash,
# timeout) counts as one failure. Prints per-suite lines, then exactly
# "N passed, N failed[, N skipped]". Usage: ktap-summary.sh <run>/output.txt...
# (the run is named after the directory holding its output). A run whose
# verdict file (from vm.sh) names a timeout, a guest death or kernel
# reports adds one failure. A failing case is followed by the last lines it
# logged, so that a CI log that keeps only this summary still says why.
awk '
function flush_prog() {
	if (prog == "")
		return
	if (!cases && prog_ok)
		pass[run SUBSEP suite]++
	else if (prog_ok == 0 && !case_fail) {
		fail[run SUBSEP suite]++
		failures = failures "  FAIL " run ": " prog " (" prog_why ")\n"
	}
	prog = ""
}
FNR == 1 {
	flush_prog()
	n = split(FILENAME, parts, "/")
	run = n > 1 ? parts[n - 1] : FILENAME
}
/^# selftests: / {
	prog = substr($0, 3); suite = prog
	sub(/^selftests: /, "", suite); sub(/: .*/, "", suite)
	suites[run SUBSEP suite] = 1
	cases = 0; case_fail = 0; prog_ok = -1; logged = ""; nlogged = 0
	next
}
/^# # / && $0 !~ /^# # +(RUN|OK|FAIL) / {
	if (++nlogged > 6)
		sub(/^[^\n]*\n/, "", logged)
	logged = logged "      " substr($0, 5) "\n"
	next
}
/^# (not )?ok [0-9]+ / && prog != "" {
	line = substr($0, 3)
	cases++
	if (line ~ /# [Ss][Kk][Ii][Pp]/)
		skip[run SUBSEP suite]++
	else if (line ~ /^ok/)
		pass[run SUBSEP suite]++
	else {
		fail[run SUBSEP suite]++
		case_fail = 1
		failures = failures "  FAIL " run ": " suite ": " line "\n" logged
	}
	logged = ""; nlogged = 0
	next
}
/^(not )?ok [0-9]+ selftests: / {
	desc = $0; sub(/^(not )?ok [0-9]+ /, "", desc)
	ok = ($0 ~ /^ok/)
	why = desc; sub(/^[^#]*#? ?/, "", why)
	if (desc ~ /: rmmod /) {
		flush_prog()
		s = desc; sub(/^selftests: /, "", s); sub(/: .*/, "", s)
		suites[run SUBSEP s] = 1
		if (ok) pass[run SUBSEP s]++
		else {
			fail[run SUBSEP s]++
			failures = failures "  FAIL " run ": " desc "\n"
		}
	} else if (prog != "") {
		prog_ok = ok; prog_why = why
		if (ok && desc ~ /# SKIP/ && !cases) {
			skip[run SUBSEP suite]++; prog = ""
		}
		flush_prog()
	}
	next
}
END {
	flush_prog()
	# Timeouts, deaths and kernel reports are failures of the whole run.
	for (i = 1; i < ARGC; i++) {
		v = ARGV[i]; sub(/output\.txt$/, "verdict", v)
		n = split(ARGV[i], parts, "/")
		r = n > 1 ? parts[n - 1] : ARGV[i]
		if ((getline line < v) > 0 && line != "ok" && line !~ /^command exit/) {
			suites[r SUBSEP "kernel"] = 1
			fail[r SUBSEP "kernel"]++
			failures = failures "  FAIL " r ": " line "\n"
		}
	}
	for (k in suites) {
		split(k, p, SUBSEP)
		printf "%-40s %-15s %4d passed, %d failed, %d skipped\n", p[1], p[2],
			pass[k], fail[k], skip[k] | "sort"
		P += pass[k]; F += fail[k]; S += skip[k]
	}
	close("sort")
	printf "%s", failures
	if (S)
		printf "%d passed, %d failed, %d skipped\n", P, F, S
	else
		printf "%d passed, %d failed\n", P, F
	exit F > 0
}' "$@"
