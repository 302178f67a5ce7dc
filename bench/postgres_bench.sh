#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Guest side of make bench BENCH=postgres: PostgreSQL 15 (staged by
# scripts/postgres-root.sh into /bench/pgroot) with shared_buffers 1 GiB,
# pgbench scale 50, select-only with 8, 32 and 64 clients after every
# client's backend has read every page of pgbench_accounts, in three modes
# in this one guest: plain 4 KiB shmem, huge_pages=on with reserved 2 MiB
# pages, and libmshare-preload.so. Prints BENCH,postgres,<metric>,<value>,<unit>.
# Then the correctness run under the preload (issue 13, item 4): read-write
# pgbench, balances against pgbench_history and pg_amcheck, a clean
# restart and crash recovery after kill -9 of the postmaster, each checked
# the same way; PG_RW seconds of read-write load (0: no correctness run).
# /bench/postgres.conf may set PG_SCALE, PG_SB, PG_CLIENTS, PG_MEASURE,
# PG_MODES, PG_RW.
PG_SCALE=50
PG_SB=1GB
PG_CLIENTS="8 32 64"
PG_MEASURE=20
PG_MODES="plain huge preload"
PG_RW=60
[ -f /bench/postgres.conf ] && . /bench/postgres.conf
BIN=/usr/lib/postgresql/15/bin
PGD=/tmp/pg
DATA=$PGD/data
export TZ=UTC LANG=C

out() { echo "BENCH,postgres,$1,$2,$3"; }
say() { echo "# postgres: $*"; }
fail() { say "FAILED: $*"; tail -n 20 $PGD/log 2>/dev/null | sed 's/^/# log: /'; exit 1; }
now() { awk '{ print $1 }' /proc/uptime; }
as_pg() { su pg -s /bin/sh -c "export PATH=$BIN:/bin PGHOST=/tmp TZ=UTC; $*"; }
sql() { as_pg "psql -X -At -q -d postgres -c \"$1\""; }

# PageTables in kB.
pagetables() { awk '/^PageTables:/ { print $2 }' /proc/meminfo; }
# Pids of all postgres processes.
pg_pids() { for p in /proc/[0-9]*; do [ "$(cat $p/comm 2>/dev/null)" = postgres ] && echo ${p#/proc/}; done; }
# Summed VmPTE of all postgres processes, in one pass (cheap under load).
vmpte_sum() {
	awk '/^Name:/ { n = $2 } /^VmPTE:/ && n == "postgres" { s += $2 } END { print s + 0 }' \
		/proc/[0-9]*/status 2>/dev/null
}
# Mean minor faults and number of the postmaster's children other than
# the pids in $aux (the auxiliary processes): the client backends.
minflt_avg() {
	awk -v pm="$pm" -v aux=" $aux " '$4 == pm && index(aux, " " $1 " ") == 0 { s += $10; n++ }
		END { printf "%d %d\n", n ? s / n : 0, n }' /proc/[0-9]*/stat 2>/dev/null
}

setup() {
	cp -a /bench/pgroot/. / || fail "copying the staged PostgreSQL"
	[ -f /etc/passwd ] || echo 'root:x:0:0:root:/root:/bin/sh' > /etc/passwd
	echo 'pg:x:1000:1000:pg:/tmp/pg:/bin/sh' >> /etc/passwd
	echo 'root:x:0:' > /etc/group
	echo 'pg:x:1000:' >> /etc/group
	mkdir -p $PGD && chown pg:pg $PGD
	# Plain means 4 KiB pages: no transparent huge pages for shmem.
	thp=/sys/kernel/mm/transparent_hugepage/shmem_enabled
	say "shmem_enabled: $(cat $thp), set to never"
	echo never > $thp
	insmod /lib/mmsuite/mshare.ko 2>/dev/null
	mount -t msharefs msharefs /sys/fs/mshare 2>/dev/null
	[ -f /sys/fs/mshare/mshare_info ] || fail "msharefs is not mounted"
	as_pg "initdb -D $DATA -U pg -A trust --locale=C -E UTF8 --no-sync" > $PGD/initdb.log 2>&1 ||
		{ cat $PGD/initdb.log; fail initdb; }
	cat >> $DATA/postgresql.conf <<EOF
listen_addresses = ''
unix_socket_directories = '/tmp'
shared_buffers = $PG_SB
max_connections = 100
max_parallel_workers_per_gather = 0
jit = off
fsync = off
synchronous_commit = off
full_page_writes = off
autovacuum = off
dynamic_shared_memory_type = posix
EOF
	cat > $PGD/select.sql <<'EOF'
\if :warmed = 0
SELECT sum(length(get_raw_page('pgbench_accounts', b))) FROM generate_series(0, pg_relation_size('pgbench_accounts') / 8192 - 1) b;
\set warmed 1
\endif
\set aid random(1, :naccounts)
SELECT abalance FROM pgbench_accounts WHERE aid = :aid;
EOF
	chown pg:pg $PGD/select.sql
}

# start MODE: the server with that mode's shared memory.
start() {
	pre="" hp=off
	case $1 in
	huge)
		hp=on
		n=$(as_pg "postgres -D $DATA -C shared_memory_size_in_huge_pages")
		echo $((n + 8 + $(cat /proc/sys/vm/nr_hugepages))) > /proc/sys/vm/nr_hugepages
		say "huge pages reserved: $(cat /proc/sys/vm/nr_hugepages) (server needs $n)"
		;;
	preload) pre="LD_PRELOAD=/bin/libmshare-preload.so MSHARE_PRELOAD_VERBOSE=1" ;;
	esac
	as_pg "$pre pg_ctl -D $DATA -l $PGD/log -w -t 900 -o '-c huge_pages=$hp' start" >/dev/null ||
		fail "server start ($1)"
	pm=$(head -n 1 $DATA/postmaster.pid)
	if [ "$1" = preload ]; then
		grep -q /sys/fs/mshare/ /proc/$pm/maps || fail "no mshare region in the postmaster"
		grep mshare-preload $PGD/log | sed 's/^/# /'
	fi
}

stop() {
	as_pg "pg_ctl -D $DATA -w -t 900 -m fast stop" >/dev/null || fail "server stop"
}

# One pgbench run: $1 mode, $2 clients. Samples memory while every client
# is past its warm-up, TPS from the transaction log after the last warm-up.
run_clients() {
	mode=$1 c=$2
	base_pt=$(pagetables)
	aux=$(awk -v pm="$pm" '$4 == pm { printf "%s ", $1 }' /proc/[0-9]*/stat 2>/dev/null)
	warm_total=$(awk -v w="$warm_s" -v c="$c" 'BEGIN { printf "%d", w * c * 1.5 + 10 }')
	dur=$((warm_total + PG_MEASURE))
	rm -f $PGD/tx*
	as_pg "cd $PGD && pgbench -n -c $c -j 2 -T $dur -D warmed=0 -D naccounts=$((PG_SCALE * 100000)) -f select.sql -l --log-prefix=tx postgres" \
		> $PGD/pgbench.out 2>&1 &
	bp=$!
	# Samples every 4 s while pgbench runs: epoch, PageTables growth,
	# summed VmPTE, backends' mean minor faults and their number.
	: > $PGD/samples
	while kill -0 $bp 2>/dev/null; do
		echo "$(date +%s) $(($(pagetables) - base_pt)) $(vmpte_sum) $(minflt_avg)" >> $PGD/samples
		sleep 4
	done
	wait $bp || { cat $PGD/pgbench.out; fail "pgbench ($mode, $c clients)"; }
	# Log lines: client tx_no latency_us script epoch_s epoch_us; a
	# client's first line is its warm-up.
	cat $PGD/tx.* | awk '
		{ t = $5 + $6 / 1e6; end[NR] = t; if (t > last) last = t }
		!($1 in seen) { seen[$1] = 1; if (t > warm) warm = t }
		END {
			for (i in end) if (end[i] > warm) n++
			printf "%.1f %.1f %d\n", n / (last - warm), last - warm, warm
		}' > $PGD/tps
	read tps window warm < $PGD/tps
	# The last sample after every warm-up with all clients connected.
	set -- $(awk -v w="$warm" -v c="$c" '$1 > w + 1 && $5 == c { s = $0 } END { print s }' $PGD/samples)
	[ $# -eq 5 ] || { sed 's/^/# sample: /' $PGD/samples; fail "no sample after the warm-up ($mode, $c clients)"; }
	pt=$2 vmpte=$3 flt=$4 nb=$5
	say "$mode $c clients: $nb backends sampled, TPS over ${window}s after the last warm-up;" \
		"$(grep ShmemPmdMapped /proc/meminfo | tr -s ' ')"
	out pt_kb_${mode}_$c $pt kB
	out vmpte_kb_${mode}_$c $vmpte kB
	out minflt_backend_${mode}_$c $flt faults
	out tps_${mode}_$c $tps tps
	failed=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' $PGD/pgbench.out)
	out failed_tx_${mode}_$c ${failed:-0} transactions
}

# A new connection scans the table: its minor faults and time. A sequential
# scan: count(*) would otherwise read only the primary key (index-only
# scan of an all-visible table).
new_scan() {
	mode=$1
	cat > $PGD/scan.sql <<'EOF'
SET enable_indexonlyscan = off;
SET enable_indexscan = off;
SET enable_bitmapscan = off;
SELECT split_part(pg_read_file('/proc/self/stat'), ' ', 10) AS f0, extract(epoch from clock_timestamp()) AS t0 \gset
SELECT count(*) FROM pgbench_accounts \g /dev/null
SELECT split_part(pg_read_file('/proc/self/stat'), ' ', 10)::bigint - :f0, round((extract(epoch from clock_timestamp()) - :t0)::numeric, 3);
EOF
	chown pg:pg $PGD/scan.sql
	r=$(as_pg "psql -X -q -At -F ' ' -d postgres -f $PGD/scan.sql") || fail "scan ($mode)"
	set -- $r
	out scan_minflt_$mode $1 faults
	out scan_s_$mode $2 s
}

# The ledger adds up and every index and heap of database rw is sound.
consistent() {
	r=$(as_pg "psql -X -At -d rw -c \"SELECT (SELECT sum(abalance) FROM pgbench_accounts) = (SELECT coalesce(sum(delta), 0) FROM pgbench_history) AND (SELECT sum(bbalance) FROM pgbench_branches) = (SELECT coalesce(sum(delta), 0) FROM pgbench_history) AND (SELECT sum(tbalance) FROM pgbench_tellers) = (SELECT coalesce(sum(delta), 0) FROM pgbench_history), (SELECT count(*) FROM pgbench_history)\"")
	say "$1: balances equal the history: $r"
	case $r in t\|*) ;; *) fail "$1: balances do not match pgbench_history ($r)" ;; esac
	as_pg "pg_amcheck -d rw --heapallindexed --parent-check" > $PGD/amcheck.out 2>&1 ||
		{ cat $PGD/amcheck.out; fail "$1: pg_amcheck"; }
	out history_rows_$1 "${r#t|}" rows
}

# Shmem in kB less what the files in /tmp (the data directory) hold.
shmem_not_files() {
	echo $(($(awk '/^Shmem:/ { print $2 }' /proc/meminfo) - $(du -sk /tmp | awk '{ print $1 }')))
}

correctness() {
	shmem0=$(shmem_not_files)
	start preload
	as_pg "psql -X -q -d postgres -c 'CREATE DATABASE rw' && psql -X -q -d rw -c 'CREATE EXTENSION amcheck'" || fail "create database rw"
	as_pg "pgbench -i -q -s 2 rw" > $PGD/init-rw.log 2>&1 || { cat $PGD/init-rw.log; fail "pgbench -i rw"; }
	as_pg "pgbench -n -c 8 -j 2 -T $PG_RW rw" > $PGD/rw.out 2>&1 || { cat $PGD/rw.out; fail "read-write pgbench"; }
	out rw_tps_preload "$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' $PGD/rw.out)" tps
	out rw_failed_tx_preload "$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' $PGD/rw.out)" transactions
	consistent after_load
	stop
	start preload
	consistent after_restart
	# Crash: kill -9 the postmaster under read-write load.
	as_pg "pgbench -n -c 8 -j 2 -T 30 rw" > $PGD/crash.out 2>&1 &
	bp=$!
	sleep 10
	pm=$(head -n 1 $DATA/postmaster.pid)
	kill -9 $pm
	say "killed postmaster $pm under load"
	wait $bp
	i=0
	while [ -n "$(pg_pids)" ] && [ $i -lt 120 ]; do sleep 1; i=$((i + 1)); done
	[ -z "$(pg_pids)" ] || fail "postgres processes left after the postmaster died"
	start preload
	grep -q 'database system was interrupted' $PGD/log || fail "no crash recovery in the log"
	grep 'redo done\|database system was interrupted' $PGD/log | tail -n 2 | sed 's/^/# /'
	consistent after_crash
	stop
	left=$(($(shmem_not_files) - shmem0))
	out shmem_left_kb $left kB
	[ "$(ls /sys/fs/mshare | grep -vc mshare_info)" -eq 0 ] || fail "regions left in msharefs"
	[ $left -lt 4096 ] || fail "Shmem grew by $left kB after the server stopped"
	out correctness_ok 1 bool
}

setup
say "initialising pgbench scale $PG_SCALE"
start plain
t=$(now)
as_pg "pgbench -i -q -s $PG_SCALE -I dtGvp --unlogged-tables postgres" > $PGD/init.log 2>&1 ||
	{ cat $PGD/init.log; fail "pgbench -i"; }
sql "CREATE EXTENSION pageinspect; CREATE EXTENSION pg_prewarm;" >/dev/null || fail extensions
say "initialised in $(awk -v a="$t" -v b="$(now)" 'BEGIN { print b - a }') s;" \
	"pgbench_accounts $(sql "SELECT pg_relation_size('pgbench_accounts') / 1048576") MiB"
stop
hp0=$(cat /proc/sys/vm/nr_hugepages)
for mode in $PG_MODES; do
	start $mode
	sql "SELECT pg_prewarm('pgbench_accounts'), pg_prewarm('pgbench_accounts_pkey');" >/dev/null ||
		fail "prewarm ($mode)"
	# One client's warm-up alone, to size the warm-up phase of each run.
	t=$(now)
	sql "SELECT sum(length(get_raw_page('pgbench_accounts', b))) FROM generate_series(0, pg_relation_size('pgbench_accounts') / 8192 - 1) b;" >/dev/null
	warm_s=$(awk -v a="$t" -v b="$(now)" 'BEGIN { print b - a }')
	out warm_s_$mode $warm_s s
	new_scan $mode
	for c in $PG_CLIENTS; do
		run_clients $mode $c
	done
	stop
	echo $hp0 > /proc/sys/vm/nr_hugepages
done
[ "$PG_RW" -gt 0 ] && correctness
say done
