#!/usr/bin/env bash
# load.sh measures courierd under load on this machine: it builds courierd
# and courierload, starts REPLICAS courierd processes (default 2) on the test
# PostgreSQL of scripts/services.sh (a database of its own, courier_load, kept
# between runs so the couriers are made once) and on a redis-server of its
# own (started here, gone at the end: the GPS history it fills is not left
# behind), and runs courierload against them with the arguments given.
#
#   scripts/load.sh                                  every phase but mix, 20 s each
#   scripts/load.sh -phases mix -mix 5m              the 5-minute memory run
#   REPLICAS=1 scripts/load.sh -duration 30s         one replica
#   FRESH=1 scripts/load.sh                          drop courier_load first
#   LOAD_DB=other scripts/load.sh                    another database than courier_load
#   COURIERD_GOMAXPROCS=2 TOOL_GOMAXPROCS=2 scripts/load.sh   Go's default threads in each process
#   PIN=0 scripts/load.sh                            replicas not pinned to cores
#
# Everything listens on 127.0.0.1; courierload refuses other targets.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)
REPLICAS=${REPLICAS:-2}
# Each replica gets its share of the cores, as a container's CPU limit would
# give it (Go reads that limit for GOMAXPROCS), and the tool one thread: with
# every process thinking it has all the cores, their threads take turns on
# the run queue and the latencies' tail is the kernel's time slices.
CORES=$(nproc)
COURIERD_GOMAXPROCS=${COURIERD_GOMAXPROCS:-$(( CORES / REPLICAS > 0 ? CORES / REPLICAS : 1 ))}
TOOL_GOMAXPROCS=${TOOL_GOMAXPROCS:-1}
# With as many replicas as cores or fewer, each replica runs on cores of its
# own (taskset), as a container given a cpuset (Kubernetes' static CPU
# manager) does: its threads stay where their caches are and the replicas
# do not move each other about; Redis, PostgreSQL and the tool go where
# there is room. PIN=0: no pinning.
PIN=${PIN:-1}
pin_cpus() { # the cores of replica $1 (1-based), or nothing
	local per=$(( CORES / REPLICAS ))
	if [[ $PIN == 1 && $per -ge 1 ]] && command -v taskset >/dev/null; then
		echo "$(( ($1 - 1) * per ))-$(( $1 * per - 1 ))"
	fi
}
log() { echo "load.sh: $*" >&2; }

command -v go >/dev/null || PATH="/usr/local/go/bin:$PATH"
eval "$(scripts/services.sh)"
pgbase=${COURIER_TEST_POSTGRES_URL%%\?*}
pgbase=${pgbase%/*}
LOAD_DB=${LOAD_DB:-courier_load}
[[ $LOAD_DB =~ ^[a-z_][a-z0-9_]*$ ]] || { log "LOAD_DB: not a plain database name: $LOAD_DB"; exit 2; }
DB_URL="$pgbase/$LOAD_DB?sslmode=disable"
psql_admin() { psql -X -q "$COURIER_TEST_POSTGRES_URL" "$@"; }
if [[ -n ${FRESH:-} ]]; then
	log "dropping $LOAD_DB"
	psql_admin -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $LOAD_DB WITH (FORCE)" >/dev/null
fi
psql_admin -tAc "SELECT 1 FROM pg_database WHERE datname = '$LOAD_DB'" | grep -q 1 ||
	psql_admin -c "CREATE DATABASE $LOAD_DB" >/dev/null

log "building bin/courierd and bin/courierload"
go build -o bin/courierd ./cmd/courierd
go build -o bin/courierload ./cmd/courierload

RUN=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$RUN"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }

rport=$(free_port)
redis_pid_slot=${#pids[@]}
redis-server --port "$rport" --bind 127.0.0.1 --save '' --appendonly no --dir "$RUN" --logfile "$RUN/redis.log" &
pids+=($!)
REDIS_URL="redis://127.0.0.1:$rport/0"
for _ in $(seq 1 50); do [[ "$(redis-cli -p "$rport" ping 2>/dev/null)" == PONG ]] && break; sleep 0.1; done

export COURIER_ADMIN_LOGIN=load-admin COURIER_ADMIN_PASSWORD=load-admin-password
export COURIER_METRICS_TOKEN=courierload-metrics-token
targets=()
courierd_pids=()
for i in $(seq 1 "$REPLICAS"); do
	port=$(free_port)
	cpus=$(pin_cpus "$i")
	DATABASE_URL="$DB_URL" REDIS_URL="$REDIS_URL" JWT_SECRET=courierload-secret-courierload-secret \
		COURIER_ADDR="127.0.0.1:$port" COURIER_BCRYPT_COST=4 COURIER_LOG_LEVEL=warn COURIER_WEB_DIR="$ROOT/web" \
		GOMAXPROCS=$COURIERD_GOMAXPROCS ${cpus:+taskset -c "$cpus"} bin/courierd >"$RUN/courierd-$i.log" 2>&1 &
	pids+=($!)
	courierd_pids+=($!)
	targets+=("http://127.0.0.1:$port")
done
for t in "${targets[@]}"; do
	for _ in $(seq 1 300); do curl -sf "$t/readyz" >/dev/null && break; sleep 0.2; done
	curl -sf "$t/readyz" >/dev/null || { tail -n 30 "$RUN"/courierd-*.log >&2; log "courierd at $t did not start"; exit 1; }
done
log "courierd x$REPLICAS (GOMAXPROCS $COURIERD_GOMAXPROCS$( [[ -n $(pin_cpus 1) ]] && echo ", each on cores of its own")): ${targets[*]}; redis $REDIS_URL; database $LOAD_DB"
# The CPU each phase costs each process: courierd, this Redis, the test
# PostgreSQL's postmaster and its backends (+), and courierload itself.
cpu="courierd=$(IFS=,; echo "${courierd_pids[*]}");redis=${pids[$redis_pid_slot]}"
pgdata=$(cat .cache/pg/datadir 2>/dev/null || true)
if [[ -n $pgdata && -r $pgdata/postmaster.pid ]]; then
	cpu+=";postgres=$(head -n 1 "$pgdata/postmaster.pid")+"
fi
status=0
GOMAXPROCS=$TOOL_GOMAXPROCS bin/courierload -targets "$(IFS=,; echo "${targets[*]}")" -redis "$REDIS_URL" -cpu "$cpu" "$@" || status=$?
for i in $(seq 1 "$REPLICAS"); do
	if grep -q '"level":"ERROR"\|level=ERROR' "$RUN/courierd-$i.log"; then
		log "errors logged by courierd $i:"
		grep 'level=ERROR\|"level":"ERROR"' "$RUN/courierd-$i.log" | sort | uniq -c | sort -rn | head -n 10 >&2
	fi
done
exit "$status"
