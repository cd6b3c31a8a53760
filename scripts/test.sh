#!/usr/bin/env bash
# Runs gormcache's checks and tests against real services started on loopback.
#
#   scripts/test.sh [test] [packages] [go test flags]   gofmt -l, go vet, staticcheck,
#                                                       go test -race
#   scripts/test.sh bench [packages] [go test flags]    benchmarks; BENCH=regexp picks them
#   scripts/test.sh packages                            prints the default packages
#   scripts/test.sh gormsuite sqlite|postgres|mysql [memory|redis|near|cluster]
#                                                       GORM's own test suite, without
#                                                       and with the plugin (see below)
#
# Packages (arguments starting with ./ or ../, or the module path) default to
# every module of go.work (./... of each: a ./... pattern stops at a nested
# module) and the packages under testdata/ (which no ./... matches), and also
# scope gofmt, vet and staticcheck (a pinned release, built from the Go
# module proxy); every other argument goes to go test.
#
# PostgreSQL 15 runs from a throwaway directory on a free 127.0.0.1 port and
# its DSN is exported as GORMCACHE_POSTGRES_DSN (read by internal/testdb). A
# hot standby streaming from it, which applies every commit 400ms after the
# primary made it, runs likewise as GORMCACHE_POSTGRES_REPLICA_DSN.
# Redis, one standalone server and one Cluster of three masters, runs likewise
# (installed from Debian's redis-server package if missing) and is exported as
# GORMCACHE_REDIS_ADDR and GORMCACHE_REDIS_CLUSTER_ADDRS (internal/testredis).
# MariaDB runs likewise (installed from Debian's mariadb-server package if
# missing; mariadb-install-db into a throwaway directory, mariadbd on a free
# port) and is exported as GORMCACHE_MYSQL_DSN.
# Whatever was started is stopped and removed on exit, whatever the outcome.
# PG_BIN overrides where the server binaries are.
#
# gormsuite runs ../shared/gormsuite/run.sh (GORMSUITE overrides the path)
# from this checkout: GORM's tests without the plugin, then with CacheAll,
# over the memory store or over the Redis store named after the engine
# (redis, near or cluster; Redis started as above).
# For mysql it first starts MariaDB as above, with a user and a database
# named gorm, and passes them as GORM_DSN in GORM's format
# (charset=utf8mb4, parseTime, loc=Local); run.sh starts its own
# PostgreSQL, and sqlite needs nothing. On mysql, a run that lists only
# tests of GORM's that fail now and then without the plugin (see
# gormsuite) runs again, up to four runs. A service that cannot be found
# is fatal under CI=true; elsewhere its suites skip. The exit code is go
# test's; -timeout in the arguments overrides the default 30m.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
MODULE=github.com/gormcache/gormcache
STATICCHECK=honnef.co/go/tools/cmd/staticcheck@v0.8.2

cleanups=() # functions run in reverse order on exit
services=() # "name=status" words of the summary line
pkgs=()     # go packages to check and test
flags=()    # everything else, for go test

log() { printf 'test.sh: %s\n' "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}

on_exit() {
	local rc=$? i
	set +e
	for ((i = ${#cleanups[@]} - 1; i >= 0; i--)); do
		"${cleanups[i]}"
	done
	if ((${#services[@]})); then
		log "services: ${services[*]}"
	fi
	exit "$rc"
}

# unavailable NAME REASON records that service NAME cannot run. Under CI=true
# that is fatal, so CI never passes by skipping; otherwise its suites skip.
unavailable() {
	if [[ ${CI:-} == true ]]; then
		die "$1 is required under CI=true: $2"
	fi
	log "$1 unavailable, its tests will skip: $2"
	services+=("$1=unavailable")
}

# millis prints the wall clock in milliseconds, for startup timings.
millis() { echo $((${EPOCHREALTIME/./} / 1000)); }

# free_port prints a 127.0.0.1 port that nothing listens on right now, below
# Linux's ephemeral range (32768+) so no outgoing connection takes it. A server
# that loses a race for it fails to bind; its caller retries.
free_port() {
	local port
	while :; do
		port=$((20000 + RANDOM % 12000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			echo "$port"
			return
		fi
	done
}

# as_postgres CMD... runs CMD as the postgres system user when we are root (the
# server refuses to run as root), from a directory that user can enter.
as_postgres() {
	if ((EUID == 0)); then
		(cd "$pg_dir" && runuser -u postgres -- "$@")
	else
		"$@"
	fi
}

start_postgres() {
	if [[ ! -x $PG_BIN/pg_ctl ]]; then
		unavailable postgres "no PostgreSQL server in $PG_BIN (apt-get install postgresql-15)"
		return
	fi
	if ((EUID == 0)) && ! id postgres >/dev/null 2>&1; then
		unavailable postgres "running as root and there is no postgres user to run the server as"
		return
	fi
	local start attempt
	start=$(millis)
	pg_dir=$(mktemp -d /tmp/gormcache-pg.XXXXXX) # not $TMPDIR: postgres must reach it
	cleanups+=(stop_postgres)
	if ((EUID == 0)); then
		chown postgres: "$pg_dir"
	fi

	if ! as_postgres "$PG_BIN/initdb" -D "$pg_dir/data" -U postgres --auth=trust \
		--encoding=UTF8 --locale=C --no-sync --no-instructions >"$pg_dir/initdb.log" 2>&1; then
		cat "$pg_dir/initdb.log" >&2
		die "initdb failed"
	fi
	# A disposable test server: durability off for speed, loopback only.
	cat >>"$pg_dir/data/postgresql.conf" <<-EOF
		listen_addresses = '127.0.0.1'
		unix_socket_directories = '$pg_dir'
		max_connections = 200
		fsync = off
		synchronous_commit = off
		full_page_writes = off
		# For start_postgres_replica. Both are the defaults; pinned so that a
		# speed tweak (wal_level = minimal) cannot silently break the standby.
		wal_level = replica
		max_wal_senders = 10
	EOF
	# initdb --auth=trust already lets replication connections in from
	# 127.0.0.1; make sure of it rather than depend on that.
	if ! grep -Eq '^host[[:space:]]+replication[[:space:]]+all[[:space:]]+127\.0\.0\.1/32[[:space:]]+trust' "$pg_dir/data/pg_hba.conf"; then
		echo 'host replication all 127.0.0.1/32 trust' >>"$pg_dir/data/pg_hba.conf"
	fi

	for attempt in 1 2 3 4 5; do
		pg_port=$(free_port)
		if as_postgres "$PG_BIN/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/server.log" \
			-o "-p $pg_port" -w -t 60 start >/dev/null; then
			break
		fi
		if ((attempt == 5)) || ! grep -q 'could not bind' "$pg_dir/server.log"; then
			cat "$pg_dir/server.log" >&2
			die "PostgreSQL failed to start"
		fi
	done
	local deadline=$(($(millis) + 60000))
	until "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$pg_port"; do
		(($(millis) < deadline)) || die "PostgreSQL on port $pg_port is not ready after 60s"
		sleep 0.1
	done
	"$PG_BIN/createdb" -h 127.0.0.1 -p "$pg_port" -U postgres gormcache_test

	export GORMCACHE_POSTGRES_DSN="host=127.0.0.1 port=$pg_port user=postgres dbname=gormcache_test sslmode=disable"
	services+=("postgres=127.0.0.1:$pg_port (ready in $(($(millis) - start))ms)")
}

stop_postgres() {
	if [[ -f $pg_dir/data/postmaster.pid ]]; then
		as_postgres "$PG_BIN/pg_ctl" -D "$pg_dir/data" -m immediate -w stop >/dev/null
	fi
	rm -rf "$pg_dir"
}

# start_postgres_replica makes a hot standby of the primary that start_postgres
# started, with pg_basebackup -R (which writes standby.signal and the
# primary_conninfo to stream from), and exports GORMCACHE_POSTGRES_REPLICA_DSN
# (read by internal/testdb). recovery_min_apply_delay holds every commit back
# until 400ms after the primary made it, so that tests of replica lag see a
# known, fixed lag rather than a race they mostly lose.
start_postgres_replica() {
	if [[ -z ${pg_port:-} ]]; then
		unavailable postgres-replica "there is no PostgreSQL primary to replicate"
		return
	fi
	local start port attempt
	start=$(millis)
	pg_replica_dir=$(mktemp -d /tmp/gormcache-pg-replica.XXXXXX)
	cleanups+=(stop_postgres_replica)
	if ((EUID == 0)); then
		chown postgres: "$pg_replica_dir"
	fi

	# --checkpoint=fast: the default spread checkpoint makes the copy wait.
	if ! as_postgres "$PG_BIN/pg_basebackup" -h 127.0.0.1 -p "$pg_port" -U postgres \
		-D "$pg_replica_dir/data" -R --checkpoint=fast --no-sync >"$pg_replica_dir/basebackup.log" 2>&1; then
		cat "$pg_replica_dir/basebackup.log" >&2
		unavailable postgres-replica "pg_basebackup from the primary failed"
		return
	fi
	# The copy has the primary's postgresql.conf; later lines override it.
	cat >>"$pg_replica_dir/data/postgresql.conf" <<-EOF
		unix_socket_directories = '$pg_replica_dir'
		hot_standby = on
		recovery_min_apply_delay = 400ms
	EOF

	for attempt in 1 2 3 4 5; do
		port=$(free_port)
		if as_postgres "$PG_BIN/pg_ctl" -D "$pg_replica_dir/data" -l "$pg_replica_dir/server.log" \
			-o "-p $port" -w -t 60 start >/dev/null; then
			break
		fi
		if ((attempt == 5)) || ! grep -q 'could not bind' "$pg_replica_dir/server.log"; then
			cat "$pg_replica_dir/server.log" >&2
			unavailable postgres-replica "the standby failed to start"
			return
		fi
	done
	# Accepting connections is not enough: it must also be in recovery and
	# streaming, or tests waiting for it to catch up would wait in vain.
	local deadline=$(($(millis) + 60000)) query
	query="SELECT pg_is_in_recovery() AND EXISTS (SELECT FROM pg_stat_wal_receiver WHERE status = 'streaming')"
	until [[ $("$PG_BIN/psql" -h 127.0.0.1 -p "$port" -U postgres -d gormcache_test -XAtqc "$query" 2>/dev/null) == t ]]; do
		if (($(millis) > deadline)); then
			cat "$pg_replica_dir/server.log" >&2
			unavailable postgres-replica "the standby on port $port is not streaming in recovery after 60s"
			return
		fi
		sleep 0.05
	done

	export GORMCACHE_POSTGRES_REPLICA_DSN="host=127.0.0.1 port=$port user=postgres dbname=gormcache_test sslmode=disable"
	services+=("postgres-replica=127.0.0.1:$port (ready in $(($(millis) - start))ms)")
}

stop_postgres_replica() {
	if [[ -f $pg_replica_dir/data/postmaster.pid ]]; then
		as_postgres "$PG_BIN/pg_ctl" -D "$pg_replica_dir/data" -m immediate -w stop >/dev/null
	fi
	rm -rf "$pg_replica_dir"
}

# apt_install DIR PACKAGE installs Debian's PACKAGE, as root or through
# passwordless sudo, logging to DIR/apt.log, which is shown if it fails.
apt_install() {
	local dir=$1 package=$2 sudo=()
	command -v apt-get >/dev/null || return 1
	((EUID == 0)) || sudo=(sudo -n)
	log "installing Debian's $package package"
	{
		"${sudo[@]}" apt-get update &&
			DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y --no-install-recommends "$package"
	} >"$dir/apt.log" 2>&1 || {
		cat "$dir/apt.log" >&2
		return 1
	}
}

# start_redis_server NAME [ARGS...] starts a disposable redis-server (no
# persistence, loopback only) in $redis_dir/NAME on a free port, with ARGS
# added, waits until it answers and sets redis_port. PORT_ in ARGS is replaced
# by another free port (for --cluster-port).
start_redis_server() {
	local name=$1 attempt arg args
	shift
	mkdir -p "$redis_dir/$name"
	for attempt in 1 2 3 4 5; do
		redis_port=$(free_port)
		args=()
		for arg; do
			[[ $arg == PORT_ ]] && arg=$(free_port)
			args+=("$arg")
		done
		rm -f "$redis_dir/$name/server.log"
		redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$redis_dir/$name" \
			--save '' --appendonly no --daemonize yes \
			--pidfile "$redis_dir/$name/server.pid" --logfile "$redis_dir/$name/server.log" "${args[@]}"
		local deadline=$(($(millis) + 10000))
		until [[ $(redis-cli -p "$redis_port" ping 2>/dev/null) == PONG ]]; do
			if grep -q 'Address already in use' "$redis_dir/$name/server.log" 2>/dev/null; then
				continue 2 # lost the race for the port: try another
			fi
			if (($(millis) > deadline)); then
				cat "$redis_dir/$name/server.log" >&2
				die "redis-server $name on port $redis_port is not ready after 10s"
			fi
			sleep 0.05
		done
		return
	done
	cat "$redis_dir/$name/server.log" >&2
	die "redis-server $name failed to start"
}

# start_redis starts one standalone Redis server and one Cluster of three
# masters, and exports GORMCACHE_REDIS_ADDR and GORMCACHE_REDIS_CLUSTER_ADDRS
# (read by internal/testredis).
start_redis() {
	local start node addrs=()
	start=$(millis)
	redis_dir=$(mktemp -d /tmp/gormcache-redis.XXXXXX)
	cleanups+=(stop_redis)
	if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
		if ! apt_install "$redis_dir" redis-server; then # brings redis-cli
			unavailable redis "redis-server is not installed and installing Debian's redis-server package failed"
			return
		fi
	fi

	start_redis_server standalone
	export GORMCACHE_REDIS_ADDR=127.0.0.1:$redis_port

	for node in 1 2 3; do
		start_redis_server "cluster$node" --cluster-enabled yes --cluster-config-file nodes.conf --cluster-port PORT_
		addrs+=("127.0.0.1:$redis_port")
	done
	if ! redis-cli --cluster create "${addrs[@]}" --cluster-replicas 0 --cluster-yes >"$redis_dir/cluster-create.log" 2>&1; then
		cat "$redis_dir/cluster-create.log" >&2
		die "redis-cli --cluster create failed"
	fi
	local deadline=$(($(millis) + 30000)) addr
	for addr in "${addrs[@]}"; do
		until redis-cli -p "${addr##*:}" cluster info | grep -q '^cluster_state:ok'; do
			(($(millis) < deadline)) || die "Redis Cluster is not ok after 30s"
			sleep 0.05
		done
	done
	GORMCACHE_REDIS_CLUSTER_ADDRS=$(
		IFS=,
		echo "${addrs[*]}"
	)
	export GORMCACHE_REDIS_CLUSTER_ADDRS
	services+=("redis=$GORMCACHE_REDIS_ADDR redis-cluster=$GORMCACHE_REDIS_CLUSTER_ADDRS (ready in $(($(millis) - start))ms)")
}

stop_redis() {
	local pidfile
	for pidfile in "$redis_dir"/*/server.pid; do
		[[ -f $pidfile ]] && kill -9 "$(cat "$pidfile")" 2>/dev/null
	done
	rm -rf "$redis_dir"
}

# as_mysql CMD... runs CMD as the mysql system user when we are root and that
# user exists (the server would rather not run as root), else as ourselves
# (mariadbd then needs --user=root).
as_mysql() {
	if ((EUID == 0)) && id mysql >/dev/null 2>&1; then
		runuser -u mysql -- "$@"
	else
		"$@"
	fi
}

# start_mariadb starts a disposable MariaDB server (durability off, loopback
# only, utf8mb4_general_ci as Debian configures it) from a data directory
# made by mariadb-install-db in a throwaway directory, and exports
# GORMCACHE_MYSQL_DSN (read by internal/testdb): root over TCP, without a
# database, which each test creates.
start_mariadb() {
	local start attempt user=()
	start=$(millis)
	mariadb_dir=$(mktemp -d /tmp/gormcache-mariadb.XXXXXX)
	cleanups+=(stop_mariadb)
	if ! command -v mariadbd >/dev/null && [[ ! -x /usr/sbin/mariadbd ]]; then
		# mariadb-server brings mariadb-install-db and the client; its own
		# service is not used.
		if ! apt_install "$mariadb_dir" mariadb-server; then
			unavailable mysql "mariadbd is not installed and installing Debian's mariadb-server package failed"
			return
		fi
	fi
	local mariadbd
	mariadbd=$(command -v mariadbd || echo /usr/sbin/mariadbd)
	if ((EUID == 0)); then
		if id mysql >/dev/null 2>&1; then
			chown mysql: "$mariadb_dir"
			user=(--user=mysql)
		else
			user=(--user=root)
		fi
	fi
	if ! as_mysql mariadb-install-db --no-defaults --datadir="$mariadb_dir/data" "${user[@]}" \
		--auth-root-authentication-method=normal --skip-test-db >"$mariadb_dir/install.log" 2>&1; then
		cat "$mariadb_dir/install.log" >&2
		unavailable mysql "mariadb-install-db failed"
		return
	fi
	for attempt in 1 2 3 4 5; do
		mariadb_port=$(free_port)
		rm -f "$mariadb_dir/server.log"
		as_mysql "$mariadbd" --no-defaults --datadir="$mariadb_dir/data" "${user[@]}" \
			--port="$mariadb_port" --bind-address=127.0.0.1 --socket="$mariadb_dir/mysqld.sock" \
			--pid-file="$mariadb_dir/mysqld.pid" --log-error="$mariadb_dir/server.log" \
			--skip-name-resolve --character-set-server=utf8mb4 --collation-server=utf8mb4_general_ci \
			--max-connections=500 --innodb-flush-log-at-trx-commit=0 --innodb-doublewrite=0 \
			--innodb-buffer-pool-size=256M >/dev/null 2>&1 &
		local deadline=$(($(millis) + 60000))
		until mariadb-admin --no-defaults -h 127.0.0.1 -P "$mariadb_port" -u root ping >/dev/null 2>&1; do
			if grep -q 'Do you already have another .*server running' "$mariadb_dir/server.log" 2>/dev/null; then
				continue 2 # lost the race for the port: try another
			fi
			if (($(millis) > deadline)) || ! kill -0 $! 2>/dev/null; then
				cat "$mariadb_dir/server.log" >&2
				unavailable mysql "mariadbd on port $mariadb_port is not ready after 60s"
				return
			fi
			sleep 0.1
		done
		export GORMCACHE_MYSQL_DSN="root@tcp(127.0.0.1:$mariadb_port)/"
		services+=("mysql=127.0.0.1:$mariadb_port (ready in $(($(millis) - start))ms)")
		return
	done
	cat "$mariadb_dir/server.log" >&2
	unavailable mysql "mariadbd failed to start"
}

stop_mariadb() {
	if [[ -f $mariadb_dir/mysqld.pid ]]; then
		kill -9 "$(cat "$mariadb_dir/mysqld.pid")" 2>/dev/null
	fi
	rm -rf "$mariadb_dir"
}

# start_chromium finds the Chromium that admin's browser test (admin/e2e) drives,
# installing Debian's chromium package (as root or through passwordless sudo)
# when /usr/bin/chromium is missing, and exports GORMCACHE_CHROMIUM.
start_chromium() {
	local bin=/usr/bin/chromium apt_dir
	if [[ ! -x $bin ]]; then
		apt_dir=$(mktemp -d /tmp/gormcache-apt.XXXXXX)
		apt_install "$apt_dir" chromium || true
		rm -rf "$apt_dir"
	fi
	if [[ ! -x $bin ]]; then
		unavailable chromium "$bin is missing and installing Debian's chromium package failed"
		return
	fi
	export GORMCACHE_CHROMIUM=$bin
	services+=("chromium=$bin")
}

# start_services starts every service the suites need. Each start_* function
# registers its own cleanup, then exports the variable internal/testdb reads or
# calls unavailable.
start_services() {
	services+=(sqlite=embedded)
	start_postgres
	start_postgres_replica
	start_redis
	start_mariadb
	start_chromium
}

setup_go() {
	if ! command -v go >/dev/null && [[ -x /usr/local/go/bin/go ]]; then
		PATH=/usr/local/go/bin:$PATH
	fi
	command -v go >/dev/null || die "go not found on PATH"
	export CGO_ENABLED=1 # mattn/go-sqlite3 and -race need cgo
}

# split_args sorts the arguments into package patterns and go test flags.
split_args() {
	local arg
	for arg; do
		case $arg in
		. | ./* | ../* | "$MODULE" | "$MODULE"/*) pkgs+=("$arg") ;;
		*) flags+=("$arg") ;;
		esac
	done
	if ((${#pkgs[@]} == 0)); then
		default_pkgs
	fi
}

# default_pkgs sets pkgs to ./... of each module of the workspace (go.work;
# the root module alone under GOWORK=off), and the packages under testdata/
# (shared test schemas), which no ./... pattern matches.
default_pkgs() {
	local dir dirs
	pkgs=()
	mapfile -t dirs < <(go list -m -f '{{.Dir}}')
	((${#dirs[@]})) || die "go list -m found no module"
	for dir in "${dirs[@]}"; do
		case $dir in
		"$PWD") pkgs+=(./...) ;;
		"$PWD"/*) pkgs+=("./${dir#"$PWD"/}/...") ;;
		*) die "module $dir of go.work is outside $PWD" ;;
		esac
	done
	for dir in testdata/*/; do
		[[ -d $dir ]] && pkgs+=("./${dir%/}")
	done
}

check_format() {
	local dirs unformatted
	mapfile -t dirs < <(go list -e -f '{{.Dir}}' "${pkgs[@]}")
	((${#dirs[@]})) || return 0
	unformatted=$(find "${dirs[@]}" -maxdepth 1 -name '*.go' -print0 | xargs -0 -r gofmt -l)
	if [[ -n $unformatted ]]; then
		log "gofmt: these files need formatting (make fmt):"
		printf '%s\n' "${unformatted//"$PWD/"/}" >&2
		exit 1
	fi
}

# remove_harness removes the copy of GORM's suite runner that gormsuite
# made for a Redis store.
remove_harness() { rm -rf "$harness"; }

# gormsuite ENGINE [STORE] runs GORM's test suite on ENGINE against this
# checkout, the plugin over the memory store or over STORE: redis (a
# standalone server), near (a near cache over it) or cluster (a Redis
# Cluster), started as for the tests. For those, run.sh runs from a copy
# beside scripts/gormsuite/gormcache_test.go.txt, which registers the
# plugin over that store in place of run.sh's own registration.
gormsuite() {
	local engine=${1:-sqlite} store=${2:-memory} script=${GORMSUITE:-../shared/gormsuite/run.sh}
	[[ -f $script ]] || die "GORM's suite runner is missing at $script (set GORMSUITE)"
	case $store in
	memory) ;;
	redis | near | cluster)
		start_redis
		[[ -n ${GORMCACHE_REDIS_ADDR:-} ]] || die "Redis did not start"
		harness=$(mktemp -d /tmp/gormcache-gormsuite.XXXXXX)
		cleanups+=(remove_harness)
		cp "$script" "$(dirname "$script")/tests_test.go.patch" "$harness/"
		cp scripts/gormsuite/gormcache_test.go.txt "$harness/gormcache_test.go"
		script=$harness/$(basename "$script")
		export GORMCACHE_STORE=$store
		;;
	*) die "unknown store $store: memory, redis, near or cluster" ;;
	esac
	if [[ $engine == mysql ]]; then
		start_mariadb
		[[ -n ${GORMCACHE_MYSQL_DSN:-} ]] || die "MariaDB did not start"
		mariadb --no-defaults -h 127.0.0.1 -P "$mariadb_port" -u root -e \
			"CREATE DATABASE gorm; CREATE USER gorm@'%' IDENTIFIED BY 'gorm'; GRANT ALL ON *.* TO gorm@'%'"
		export GORM_DSN="gorm:gorm@tcp(127.0.0.1:$mariadb_port)/gorm?charset=utf8mb4&parseTime=True&loc=Local"
	fi
	# On MariaDB these tests of GORM's expect UpdatedAt, which GORM rounds to
	# the millisecond there, to change between a create and an update that a
	# fast server serves in about half of one: they fail now and then without
	# the plugin too (TestUpdate alone, 15 runs each on this machine: 9
	# failed without the plugin, 6 with it), so a run lists one of them
	# about every other time. A run whose only listed tests are among them
	# runs again, up to four runs; the last one's result stands.
	local flaky='^(TestUpdate|TestUpdates|TestFindOrCreate)$' out listed rc run runs=4
	for ((run = 1; run <= runs; run++)); do
		out=$(mktemp)
		rc=0
		bash "$script" "$engine" | tee "$out" || rc=${PIPESTATUS[0]}
		listed=$(sed '1,/^pass without gormcache, fail with it:$/d' "$out")
		rm -f "$out"
		if ((rc == 0 || run == runs)) || [[ $engine != mysql || -z $listed ]] || grep -qvE "$flaky" <<<"$listed"; then
			return "$rc"
		fi
		log "only tests that fail now and then without the plugin are listed ($(echo $listed)): running the suite again"
	done
}

main() {
	local mode=test rc=0
	case ${1:-} in
	gormsuite)
		shift
		setup_go
		trap on_exit EXIT
		gormsuite "$@"
		return
		;;
	test | bench | packages)
		mode=$1
		shift
		;;
	esac
	setup_go
	if [[ $mode == packages ]]; then
		default_pkgs
		printf '%s\n' "${pkgs[@]}"
		return
	fi
	split_args "$@"
	trap on_exit EXIT
	trap 'exit 129' HUP
	trap 'exit 130' INT
	trap 'exit 143' TERM
	start_services

	case $mode in
	test)
		if [[ ${CI:-} == true ]]; then
			# The racing suite runs long enough in CI to catch races whose
			# window is a few instructions wide (see concurrency_test.go).
			export GORMCACHE_RACE_DURATION=${GORMCACHE_RACE_DURATION:-30s}
		fi
		check_format
		go vet "${pkgs[@]}"
		go run "$STATICCHECK" "${pkgs[@]}"
		go test -race -count=1 -timeout 30m "${pkgs[@]}" "${flags[@]}" || rc=$?
		;;
	bench)
		go test -run '^$' -bench "${BENCH:-.}" -benchmem -timeout 30m "${pkgs[@]}" "${flags[@]}" || rc=$?
		;;
	esac
	return "$rc"
}

main "$@"
