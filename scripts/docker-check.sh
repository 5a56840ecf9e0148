#!/usr/bin/env bash
# docker-check.sh checks the container image without a container engine
# (this machine has the docker client but no daemon, and no compose): it
# runs the Dockerfile's own steps on the host and the image's command as
# docker-compose.yml would, then checks what the image must do.
#
#   1. the build context, made with .dockerignore's rules, has no .git,
#      .cache (live database sockets), node_modules or data;
#   2. the RUN commands of the build stage (go build) and of the web stage
#      (npm ci), read from the Dockerfile, build into a scratch image root;
#   3. the final stage's COPY --from lines and its fonts package fill the
#      image root, and its ENV is applied with paths under that root;
#   4. courierd starts from the root as the ENTRYPOINT with compose's
#      settings (the test PostgreSQL and Redis when exported, as test.sh
#      does), two replicas at once on one database as compose starts them,
#      the admin logging in on both; the compose healthcheck command, read
#      from docker-compose.yml, passes (a CMD-SHELL one runs under dash, the
#      image's /bin/sh); /console/, Leaflet, uPlot and the courier app
#      (/app/) are served; the PDF printer found its fonts, and a route
#      sheet planned in the demo comes out as a PDF;
#   5. compose mounts FIREBASE_CREDENTIALS_FILE and sets COURIER_PUBLIC_URL.
#
# Exit status 0 when every check passes. Run by scripts/test.sh.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
log() { echo "docker-check: $*" >&2; }
fail=0
bad() { log "FAIL: $*"; fail=1; }

if docker info >/dev/null 2>&1; then
	log "a container engine answers; this script still checks the steps on the host"
else
	log "no container engine here (docker info fails): checking the image's steps on the host"
fi

TMP=$(mktemp -d)
PIDS=()
DB=""
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	[[ -n $DB ]] && psql -q "$COURIER_TEST_POSTGRES_URL" -c "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1 || true
	chmod -R u+w "$TMP" 2>/dev/null || true
	rm -rf "$TMP"
}
trap cleanup EXIT

# --- the Dockerfile, instruction by instruction --------------------------------
# Continuation lines are joined; each instruction is "STAGE<TAB>INSTRUCTION args".
instructions=$(awk '
	/^[[:space:]]*#/ { next }
	{ line = (cont ? cont " " : "") $0; cont = "" }
	/\\$/ { sub(/\\$/, "", line); cont = line; next }
	line ~ /^[[:space:]]*$/ { next }
	{
		split(line, w, /[[:space:]]+/)
		if (toupper(w[1]) == "FROM") { stage = "final"; for (i = 2; i <= length(w); i++) if (toupper(w[i]) == "AS") stage = w[i+1] }
		print stage "\t" line
	}' Dockerfile)
stage_lines() { awk -F'\t' -v s="$1" -v k="$2" '$1 == s { split($2, w, /[[:space:]]+/); if (toupper(w[1]) == k) { sub(/^[^[:space:]]+[[:space:]]+/, "", $2); print $2 } }' <<<"$instructions"; }

# --- 1. the build context --------------------------------------------------------
CTX="$TMP/context"
mkdir -p "$CTX"
mapfile -t patterns < <(grep -v '^[[:space:]]*#' .dockerignore | sed '/^[[:space:]]*$/d')
prune=()
for p in "${patterns[@]}"; do
	[[ $p == *'*'* ]] && continue
	prune+=(-path "./$p" -o)
done
excluded() {
	local f=$1 p
	for p in "${patterns[@]}"; do
		p=${p//\*\*\//*}
		# shellcheck disable=SC2053
		[[ $f == $p || $f == $p/* ]] && return 0
	done
	return 1
}
n=0
while IFS= read -r -d '' f; do
	f=${f#./}
	excluded "$f" && continue
	mkdir -p "$CTX/$(dirname "$f")"
	cp -a "$f" "$CTX/$f"
	n=$((n + 1))
done < <(find . \( "${prune[@]}" -false \) -prune -o \( -type f -o -type l -o -type s \) -print0)
log "build context: $n files, $(du -sh "$CTX" | cut -f1)"
for d in .git .cache web/node_modules data test-artifacts; do
	[[ -e $CTX/$d ]] && bad "the build context holds $d (.dockerignore)"
done
if [[ -n $(find "$CTX" -type s) ]]; then bad "the build context holds sockets: $(find "$CTX" -type s | head -3)"; fi

# --- 2. the build and web stages ---------------------------------------------------
IMG="$TMP/image" # the image's file system
OUT="$TMP/out"   # /out of the build stage
WEB="$TMP/web"   # /web of the web stage
mkdir -p "$IMG" "$OUT" "$WEB"
log "build stage: $(stage_lines build RUN | wc -l) RUN commands in the context (the first build compiles for minutes)"
while IFS= read -r cmd; do
	cmd=${cmd//\/out\//$OUT/}
	log "  RUN $cmd"
	(cd "$CTX" && bash -ec "$cmd") || bad "build stage: $cmd"
done < <(stage_lines build RUN)
while IFS= read -r args; do # COPY in the web stage: from the context into /web
	read -ra a <<<"$args"
	dest=${a[-1]}
	[[ $dest == ./* || $dest == . ]] && dest="$WEB/${dest#./}" || dest="$WEB/${dest#/web/}"
	for src in "${a[@]:0:${#a[@]}-1}"; do
		mkdir -p "$dest"
		[[ ${#a[@]} -eq 2 && $dest != */ && -d $CTX/$src ]] && { mkdir -p "$dest"; cp -a "$CTX/$src/." "$dest/"; continue; }
		cp -a "$CTX/$src" "$dest/"
	done
	if [[ $args == *package-lock.json* ]]; then
		while IFS= read -r cmd; do
			log "  web RUN $cmd"
			(cd "$WEB" && bash -ec "$cmd") >&2 || bad "web stage: $cmd"
		done < <(stage_lines web RUN)
	fi
done < <(stage_lines web COPY)

# --- 3. the final stage --------------------------------------------------------------
while IFS= read -r args; do
	read -ra a <<<"$args"
	[[ ${a[0]} == --from=* ]] || continue
	from=${a[0]#--from=}
	dest="$IMG${a[-1]}"
	srcs=("${a[@]:1:${#a[@]}-2}")
	for src in "${srcs[@]}"; do
		case $from in
		build) src="$OUT/${src#/out/}" ;;
		web) src="$WEB/${src#/web/}" ;;
		*) bad "COPY --from=$from: unknown stage"; continue ;;
		esac
		if [[ ${#srcs[@]} -eq 1 && -d $src ]]; then
			mkdir -p "$dest"
			cp -a "$src/." "$dest/"
		else
			mkdir -p "$dest"
			cp -a "$src" "$dest/" || bad "COPY $src $dest"
		fi
	done
done < <(stage_lines final COPY)
# The packages the final stage installs: their files from the host's copy.
for pkg in $(stage_lines final RUN | grep -o 'apt-get install[^&]*' | tr ' ' '\n' | grep -v -e '^-' -e '^apt-get$' -e '^install$' -e '^$'); do
	if ! dpkg -s "$pkg" >/dev/null 2>&1; then
		log "installing $pkg on the host to copy its files (the image installs it)"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$pkg" >/dev/null 2>&1 || bad "apt-get install $pkg"
	fi
	while IFS= read -r f; do
		[[ -f $f ]] && mkdir -p "$IMG$(dirname "$f")" && cp -a "$f" "$IMG$f"
	done < <(dpkg -L "$pkg" 2>/dev/null)
done
mkdir -p "$IMG/var/lib/courierd"

# The image's ENV, with its absolute paths under the image root.
declare -A env
for kv in $(stage_lines final ENV); do
	k=${kv%%=*} v=${kv#*=}
	[[ $v == /* ]] && v="$IMG$v"
	env[$k]=$v
done
for k in COURIER_WEB_DIR COURIER_FONT_DIR; do
	[[ -n ${env[$k]:-} ]] || bad "the image sets no $k"
done
# courierd's defaults, as they resolve inside the image, not on this host.
: "${env[COURIER_WEB_DIR]:=$IMG/var/lib/courierd/web}"
: "${env[COURIER_FONT_DIR]:=$IMG/usr/share/fonts/truetype/dejavu}"
[[ -f ${env[COURIER_WEB_DIR]:-/nonexistent}/index.html ]] || bad "no console (index.html) in the image"
[[ -f ${env[COURIER_WEB_DIR]:-/nonexistent}/node_modules/leaflet/dist/leaflet.js ]] || bad "no Leaflet in the image"
[[ -f ${env[COURIER_WEB_DIR]:-/nonexistent}/node_modules/uplot/dist/uPlot.esm.js ]] || bad "no uPlot (the console's report charts) in the image"
[[ -f ${env[COURIER_WEB_DIR]:-/nonexistent}/app/index.html ]] || bad "no courier app (app/index.html) in the image"
[[ -f ${env[COURIER_FONT_DIR]:-/nonexistent}/DejaVuSans.ttf ]] || bad "no DejaVu fonts in the image"

# --- 4. run it as compose does ---------------------------------------------------------
entry=$(stage_lines final ENTRYPOINT | sed -E 's/^\["?([^"]+)"?.*/\1/')
[[ -x $IMG$entry ]] || { bad "the ENTRYPOINT $entry is not in the image"; exit 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
port=$(free_port)
port2=$(free_port)
env[JWT_SECRET]=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
env[COURIER_ADMIN_LOGIN]=admin
env[COURIER_ADMIN_PASSWORD]=docker-check-password
env[COURIER_PUBLIC_URL]=https://courier.example.com
env[COURIER_BCRYPT_COST]=4
env[COURIER_TILE_URL]=none
if [[ -n ${COURIER_TEST_POSTGRES_URL:-} ]] && command -v psql >/dev/null; then
	DB=courier_docker_check_$$
	psql -q "$COURIER_TEST_POSTGRES_URL" -c "CREATE DATABASE $DB" >/dev/null
	env[DATABASE_URL]=$(sed -E "s#/[^/?]+(\?|$)#/$DB\1#" <<<"$COURIER_TEST_POSTGRES_URL")
fi
[[ -n ${COURIER_TEST_REDIS_URL:-} ]] && env[REDIS_URL]=$COURIER_TEST_REDIS_URL
# start NAME PORT [ARGS...]: the ENTRYPOINT from the image root with the settings above on PORT
# (but those NOENV names).
start() {
	local name=$1 p=$2
	shift 2
	local envargs=()
	for k in "${!env[@]}"; do [[ $k == COURIER_ADDR || " ${NOENV:-} " == *" $k "* ]] || envargs+=("$k=${env[$k]}"); done
	envargs+=("COURIER_ADDR=127.0.0.1:$p")
	(cd "$IMG/var/lib/courierd" && exec env -i PATH=/usr/bin:/bin HOME=/tmp "${envargs[@]}" "$IMG$entry" "$@") >"$TMP/$name.log" 2>&1 &
	PIDS+=($!)
}
started() {
	local log=$1 pid=$2
	for _ in $(seq 1 150); do
		grep -q 'courierd listening' "$log" && return 0
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.2
	done
	return 1
}
# Two replicas at once on one database, as compose starts courierd-1 and courierd-2.
start courierd "$port"
start courierd-2 "$port2"
started "$TMP/courierd.log" "${PIDS[0]}" || { bad "courierd did not start:"; tail -20 "$TMP/courierd.log" >&2; exit 1; }
started "$TMP/courierd-2.log" "${PIDS[1]}" || { bad "the second replica did not start:"; tail -20 "$TMP/courierd-2.log" >&2; exit 1; }
log "two courierd replicas run from the image root on 127.0.0.1:$port and 127.0.0.1:$port2"

# The compose healthcheck, as docker would run it in the container.
hc=$(grep -A1 '^  healthcheck:' docker-compose.yml | grep 'test:' | sed -E 's/^[[:space:]]*test:[[:space:]]*//')
log "compose healthcheck: $hc"
hcenv=(env -i PATH=/usr/bin:/bin "COURIER_ADDR=127.0.0.1:$port")
case $hc in
*'"CMD-SHELL"'*)
	sh_cmd=$(sed -E 's/^\["CMD-SHELL", *"(.*)"\]$/\1/' <<<"$hc" | sed "s/8080/$port/g; s/\\\\\\\\/\\\\/g")
	"${hcenv[@]}" dash -c "$sh_cmd" >/dev/null 2>&1 || bad "the compose healthcheck fails under dash: $sh_cmd"
	;;
*'"CMD"'*)
	mapfile -t argv < <(sed -E 's/^\["CMD", *//; s/\]$//' <<<"$hc" | tr ',' '\n' | sed -E 's/^ *"//; s/" *$//')
	argv[0]="$IMG${argv[0]}"
	"${hcenv[@]}" "${argv[@]}" >&2 || bad "the compose healthcheck fails: ${argv[*]}"
	;;
*) bad "cannot read the compose healthcheck" ;;
esac
dhc=$(stage_lines final HEALTHCHECK)
[[ $dhc == *'"/usr/local/bin/courierd", "healthcheck"'* ]] || bad "the Dockerfile's HEALTHCHECK does not run courierd healthcheck: $dhc"

code() { curl -s -o "$TMP/body" -w '%{http_code}' "http://127.0.0.1:$port$1"; }
[[ $(code /console/) == 200 ]] && grep -qi '<html' "$TMP/body" || bad "GET /console/ does not serve the console"
[[ $(code /console/vendor/leaflet/leaflet.js) == 200 ]] || bad "GET /console/vendor/leaflet/leaflet.js is not served"
[[ $(code /console/vendor/uplot/uPlot.esm.js) == 200 ]] || bad "GET /console/vendor/uplot/uPlot.esm.js (the report charts) is not served"
[[ $(code /app/) == 200 ]] && grep -qi '<html' "$TMP/body" || bad "GET /app/ does not serve the courier app"
[[ $(code /app/sw.js) == 200 ]] || bad "GET /app/sw.js (the courier app's service worker) is not served"
[[ $(code /app/manifest.webmanifest) == 200 ]] || bad "GET /app/manifest.webmanifest is not served"
grep -q 'courier app files missing' "$TMP/courierd.log" && bad "the courier app files are missing"
grep -q 'route sheet PDFs are off' "$TMP/courierd.log" && bad "the PDF printer found no fonts: $(grep -m1 'PDFs are off' "$TMP/courierd.log")"
grep -q 'console files missing' "$TMP/courierd.log" && bad "the console files are missing"
grep -q 'https://courier.example.com' "$TMP/courierd.log" || bad "COURIER_PUBLIC_URL is not in the printed configuration"
for p in "$port" "$port2"; do
	curl -s -X POST "http://127.0.0.1:$p/api/v1/auth/login" -H 'Content-Type: application/json' \
		-d '{"login": "admin", "password": "docker-check-password"}' | grep -q access_token ||
		bad "the admin does not log in on the replica at $p"
done

# A route sheet PDF printed by the image's binary with the image's fonts: the
# demo (its own SQLite) plans a courier's day, and the sheet is fetched as PDF.
port3=$(free_port)
mkdir -p "$TMP/demo"
NOENV="DATABASE_URL REDIS_URL COURIER_ADMIN_LOGIN COURIER_ADMIN_PASSWORD" start demo "$port3" --demo --data-dir "$TMP/demo"
if started "$TMP/demo.log" "${PIDS[2]}"; then
	B=http://127.0.0.1:$port3
	DT=$(curl -s -X POST $B/api/v1/auth/login -H 'Content-Type: application/json' -d '{"login": "dispatcher", "password": "demo"}' |
		sed -nE 's/.*"access_token":"([^"]+)".*/\1/p' || true)
	DAY=$(TZ=Europe/Moscow date -d tomorrow +%F)
	PLAN=$(curl -s -X POST $B/api/v1/plans -H "Authorization: Bearer $DT" -H 'Content-Type: application/json' \
		-d "{\"date\": \"$DAY\", \"depot_id\": 1, \"courier_ids\": [3], \"time_limit_s\": 2}" | sed -nE 's/^\{"id":([0-9]+).*/\1/p' || true)
	SHEET=""
	if [[ -n $PLAN ]]; then
		curl -sN --max-time 60 "$B/api/v1/plans/$PLAN/events" -H "Authorization: Bearer $DT" >/dev/null || true
		curl -s -X POST "$B/api/v1/plans/$PLAN/publish" -H "Authorization: Bearer $DT" >/dev/null || true
		SHEET=$(curl -s "$B/api/v1/route-sheets?date=$DAY" -H "Authorization: Bearer $DT" | grep -o '"id":[0-9]*' | head -n 1 | cut -d: -f2 || true)
	fi
	pdf_code=$(curl -s -o "$TMP/sheet.pdf" -w '%{http_code}' "$B/api/v1/route-sheets/${SHEET:-0}/pdf" -H "Authorization: Bearer $DT" || true)
	if [[ $pdf_code == 200 ]] && head -c 5 "$TMP/sheet.pdf" | grep -q '%PDF-'; then
		log "route sheet $SHEET printed as a PDF of $(wc -c <"$TMP/sheet.pdf") bytes by the image's courierd"
	else
		bad "no route sheet PDF from the image's courierd (plan ${PLAN:-?}, sheet ${SHEET:-?}: HTTP $pdf_code)"
	fi
else
	bad "courierd --demo did not start from the image root:"
	tail -20 "$TMP/demo.log" >&2
fi

# --- 5. compose settings ------------------------------------------------------------------
grep -q 'FIREBASE_CREDENTIALS_FILE:-/dev/null}:/run/secrets/firebase.json:ro' docker-compose.yml || bad "compose does not mount FIREBASE_CREDENTIALS_FILE"
grep -q 'FIREBASE_CREDENTIALS: ${FIREBASE_CREDENTIALS_FILE:+/run/secrets/firebase.json}' docker-compose.yml || bad "compose does not point FIREBASE_CREDENTIALS at the mounted file"
grep -q 'COURIER_PUBLIC_URL: ${COURIER_PUBLIC_URL:?' docker-compose.yml || bad "compose does not require COURIER_PUBLIC_URL"
grep -q 'REDIS_URL: redis://:${REDIS_PASSWORD:?' docker-compose.yml || bad "compose's courierd does not connect to Redis with REDIS_PASSWORD"
grep -q -- '--requirepass' docker-compose.yml || bad "compose's Redis runs without a password"

if ((fail)); then
	log "FAILED"
	exit 1
fi
log "ok: the image's steps build and run on the host; two replicas, the healthcheck, console, PDFs and settings check out"
