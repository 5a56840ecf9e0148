#!/usr/bin/env bash
# services.sh starts the real services the tests use: a throwaway PostgreSQL
# cluster and a redis-server, both on free loopback ports, with their state
# under .cache/ of this checkout. It installs the Debian packages when they are
# missing (as root, non-interactively), reuses instances a previous call in
# the same checkout started, waits until both answer and prints, on stdout only:
#
#   export COURIER_TEST_POSTGRES_URL='postgres://...'
#   export COURIER_TEST_REDIS_URL='redis://127.0.0.1:PORT/0'
#
# so that a caller can run: eval "$(scripts/services.sh)"
#
#   scripts/services.sh          start (or reuse) and print the exports
#   scripts/services.sh stop     stop the instances this checkout started
#   scripts/services.sh status   say what runs
#
# Everything else goes to stderr.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE="$ROOT/.cache"
PGSTATE="$CACHE/pg"         # port file, log, socket dir, pointer to the data dir
REDISDIR="$CACHE/redis"     # pid, port, log
DBNAME=courier_test

log() { echo "services: $*" >&2; }
die() { log "error: $*"; exit 1; }

mkdir -p "$CACHE" "$PGSTATE" "$REDISDIR"

# One caller at a time per checkout: two test runs starting together share
# the instances. (status only reads, so it does not wait.)
if [[ ${1:-start} != status ]]; then
	exec 9>"$CACHE/services.flock"
	flock -w 300 9 || die "another services.sh holds $CACHE/services.flock for 5 minutes"
fi

# --- packages ----------------------------------------------------------------

pg_bindir() {
	local d
	for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k4 -n -r); do
		if [[ -x "$d/initdb" && -x "$d/pg_ctl" && -x "$d/postgres" ]]; then
			echo "$d"
			return 0
		fi
	done
	if command -v pg_ctl >/dev/null && command -v initdb >/dev/null; then
		dirname "$(command -v pg_ctl)"
		return 0
	fi
	return 1
}

apt_updated=
apt_install() {
	local sudo=
	if [[ $EUID -ne 0 ]]; then
		if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
			sudo="sudo -n"
		else
			die "packages $* are missing and this is not root (no password-less sudo either): install them, or run as root"
		fi
	fi
	if [[ -z $apt_updated ]]; then
		log "apt-get update"
		$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
		apt_updated=1
	fi
	log "installing $*"
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >&2
}

ensure_packages() {
	local want=()
	pg_bindir >/dev/null || want+=(postgresql)
	command -v redis-server >/dev/null || want+=(redis-server)
	command -v redis-cli >/dev/null || want+=(redis-tools)
	if ((${#want[@]})); then
		apt_install "${want[@]}"
	fi
	pg_bindir >/dev/null || die "PostgreSQL binaries (initdb, pg_ctl) not found after installing postgresql"
	command -v redis-server >/dev/null || die "redis-server not found after installing redis-server"
}

# --- helpers -----------------------------------------------------------------

# port_in_use PORT: something accepts connections on 127.0.0.1:PORT.
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# free_port: a port nothing listens on, from a range spread by checkout path and pid.
free_port() {
	local base p i
	base=$(( (($(printf '%s' "$ROOT" | cksum | cut -d' ' -f1) + $$ + RANDOM) % 20000) + 20000 ))
	for ((i = 0; i < 500; i++)); do
		p=$((base + i))
		port_in_use "$p" || { echo "$p"; return 0; }
	done
	die "no free port found near $base"
}

# as_pg CMD...: run CMD as the PostgreSQL owner (postgres refuses to run as root).
as_pg() {
	if [[ $EUID -eq 0 ]]; then
		(cd / && runuser -u postgres -- "$@")
	else
		"$@"
	fi
}

# pg_datadir: where the cluster lives. .cache/pg/data when its owner can reach
# it; as root, the postgres user may not be able to enter the checkout (a
# private home, a 0700 temp dir), then a directory under /tmp named after the
# checkout. The server's log and socket dir sit beside the data dir.
pg_datadir() {
	if [[ -f "$PGSTATE/datadir" ]]; then
		cat "$PGSTATE/datadir"
		return
	fi
	local d="$PGSTATE/data"
	if [[ $EUID -eq 0 ]]; then
		getent passwd postgres >/dev/null || die "user postgres does not exist (the postgresql package creates it)"
		mkdir -p "$d"
		chown postgres: "$d"
		if ! runuser -u postgres -- test -w "$d"; then
			rmdir "$d" 2>/dev/null || true
			local home="${TMPDIR:-/tmp}/courier-test-pg-$(printf '%s' "$ROOT" | cksum | cut -d' ' -f1)"
			log "the postgres user cannot enter $ROOT: the cluster goes to $home"
			d="$home/data"
			mkdir -p "$d"
			chown postgres: "$home" "$d"
			chmod 700 "$home" "$d"
		fi
	fi
	echo "$d" >"$PGSTATE/datadir"
	echo "$d"
}

pg_url() { echo "postgres://postgres@127.0.0.1:$1/$DBNAME?sslmode=disable"; }

# --- PostgreSQL ----------------------------------------------------------------

pg_running_port() {
	local port
	[[ -f "$PGSTATE/port" ]] || return 1
	port=$(cat "$PGSTATE/port")
	"$BIN/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -t 2 >/dev/null 2>&1 || return 1
	local data
	data=$(pg_datadir)
	[[ -f "$data/postmaster.pid" ]] || return 1 # answering, but not our cluster
	grep -qx "$port" <(sed -n 4p "$data/postmaster.pid") || return 1
	echo "$port"
}

start_postgres() {
	BIN=$(pg_bindir)
	local port data ver
	if port=$(pg_running_port); then
		log "reusing PostgreSQL on 127.0.0.1:$port"
		PG_PORT=$port
		return
	fi
	data=$(pg_datadir)
	ver=$("$BIN/postgres" --version | sed -E 's/.* ([0-9]+)(\.[0-9]+)*.*/\1/')
	if [[ -f "$data/PG_VERSION" && "$(cat "$data/PG_VERSION")" != "$ver" ]]; then
		log "data dir is of PostgreSQL $(cat "$data/PG_VERSION"), binaries are $ver: recreating"
		as_pg "$BIN/pg_ctl" -D "$data" stop -m immediate >/dev/null 2>&1 || true
		find "$data" -mindepth 1 -delete
	fi
	if [[ ! -f "$data/PG_VERSION" ]]; then
		find "$data" -mindepth 1 -delete 2>/dev/null || true # a half-done initdb
		log "initdb $data (PostgreSQL $ver)"
		as_pg "$BIN/initdb" -D "$data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 --no-sync >"$PGSTATE/initdb.log" 2>&1 ||
			{ cat "$PGSTATE/initdb.log" >&2; die "initdb failed"; }
		cat >>"$data/postgresql.conf" <<-'EOF'
			# throwaway test cluster (scripts/services.sh): speed over durability
			fsync = off
			synchronous_commit = off
			full_page_writes = off
			max_connections = 300
			shared_buffers = 128MB
		EOF
	fi
	# A cluster left running from before whose port file is gone or stale.
	as_pg "$BIN/pg_ctl" -D "$data" status >/dev/null 2>&1 && as_pg "$BIN/pg_ctl" -D "$data" stop -m fast -w >/dev/null 2>&1 || true

	# The unix socket lives under .cache when the path fits (107 bytes) and
	# the postgres user can write there; otherwise TCP only.
	local home sock sockopt
	home=$(dirname "$data")
	sock="$home/sock"
	mkdir -p "$sock"
	[[ $EUID -eq 0 ]] && chown postgres: "$sock"
	if ((${#sock} < 90)) && as_pg test -w "$sock"; then
		sockopt="-k '$sock'"
	else
		sockopt="-k ''"
	fi
	port=$(free_port)
	log "starting PostgreSQL on 127.0.0.1:$port"
	local logfile="$home/postgres.log"
	touch "$logfile"
	[[ $EUID -eq 0 ]] && chown postgres: "$logfile"
	# 9>&-: the daemon must not inherit (and so hold forever) the lock.
	as_pg "$BIN/pg_ctl" -D "$data" -l "$logfile" -w -t 60 -o "-p $port -h 127.0.0.1 $sockopt" start >&2 9>&- ||
		{ tail -n 30 "$logfile" >&2; die "PostgreSQL did not start"; }
	echo "$port" >"$PGSTATE/port"
	for _ in $(seq 1 60); do
		"$BIN/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -t 2 && break
		sleep 0.5
	done
	"$BIN/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -t 2 || die "PostgreSQL does not answer on $port"
	PG_PORT=$port
}

ensure_database() {
	local psql="$BIN/psql"
	[[ -x $psql ]] || psql=$(command -v psql) || die "psql not found (package postgresql-client)"
	if ! "$psql" -X -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -tAc \
		"SELECT 1 FROM pg_database WHERE datname = '$DBNAME'" 2>/dev/null | grep -q 1; then
		"$BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres "$DBNAME" >&2
	fi
}

# --- Redis -----------------------------------------------------------------------

redis_running_port() {
	local port pid
	[[ -f "$REDISDIR/port" && -f "$REDISDIR/redis.pid" ]] || return 1
	port=$(cat "$REDISDIR/port")
	pid=$(cat "$REDISDIR/redis.pid")
	kill -0 "$pid" 2>/dev/null || return 1
	[[ "$(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null)" == PONG ]] || return 1
	echo "$port"
}

start_redis() {
	local port
	if port=$(redis_running_port); then
		log "reusing redis-server on 127.0.0.1:$port"
		REDIS_PORT=$port
		return
	fi
	port=$(free_port)
	log "starting redis-server on 127.0.0.1:$port"
	rm -f "$REDISDIR/redis.pid"
	redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
		--dir "$REDISDIR" --pidfile "$REDISDIR/redis.pid" --logfile "$REDISDIR/redis.log" >&2 9>&-
	echo "$port" >"$REDISDIR/port"
	for _ in $(seq 1 50); do
		[[ "$(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null)" == PONG ]] && break
		sleep 0.2
	done
	[[ "$(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null)" == PONG ]] ||
		{ tail -n 20 "$REDISDIR/redis.log" >&2 || true; die "redis-server does not answer on $port"; }
	REDIS_PORT=$port
}

# --- commands ----------------------------------------------------------------------

stop_all() {
	if BIN=$(pg_bindir) && [[ -f "$PGSTATE/datadir" ]]; then
		local data
		data=$(cat "$PGSTATE/datadir")
		if [[ -f "$data/postmaster.pid" ]]; then
			log "stopping PostgreSQL ($data)"
			as_pg "$BIN/pg_ctl" -D "$data" stop -m fast -w >&2 || true
		fi
	fi
	rm -f "$PGSTATE/port"
	if [[ -f "$REDISDIR/redis.pid" ]]; then
		local pid
		pid=$(cat "$REDISDIR/redis.pid")
		if kill -0 "$pid" 2>/dev/null && grep -q redis-server "/proc/$pid/cmdline" 2>/dev/null; then
			log "stopping redis-server (pid $pid)"
			kill "$pid"
			for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		fi
		rm -f "$REDISDIR/redis.pid" "$REDISDIR/port"
	fi
}

case "${1:-start}" in
start)
	ensure_packages
	start_postgres
	ensure_database
	start_redis
	printf "export COURIER_TEST_POSTGRES_URL='%s'\n" "$(pg_url "$PG_PORT")"
	printf "export COURIER_TEST_REDIS_URL='redis://127.0.0.1:%s/0'\n" "$REDIS_PORT"
	;;
stop)
	stop_all
	;;
status)
	BIN=$(pg_bindir) || die "PostgreSQL is not installed"
	if port=$(pg_running_port); then log "PostgreSQL: $(pg_url "$port")"; else log "PostgreSQL: not running"; fi
	if port=$(redis_running_port); then log "redis: redis://127.0.0.1:$port/0"; else log "redis: not running"; fi
	;;
*)
	die "usage: $0 [start|stop|status]"
	;;
esac
