#!/usr/bin/env bash
# web.sh installs the web console's npm packages (Leaflet, and playwright-core
# for the browser tests) into web/node_modules with `npm ci`, from
# web/package-lock.json. Nothing third-party is committed: courierd serves
# web/src and Leaflet's dist from web/node_modules at /console/.
#
#   scripts/web.sh           install when web/package-lock.json changed since the last install
#   scripts/web.sh --force   install again
#
# Non-interactive; exits non-zero when node/npm are missing or npm ci fails.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WEB="$ROOT/web"
log() { echo "web: $*" >&2; }

command -v npm >/dev/null || { log "npm is not installed (Node.js 20+ with npm is needed for the console)"; exit 1; }
stamp="$WEB/node_modules/.courier-lock.sha256"
want=$(sha256sum "$WEB/package-lock.json" | cut -d' ' -f1)
if [[ ${1:-} != --force && -f $stamp && "$(cat "$stamp")" == "$want" && -f "$WEB/node_modules/leaflet/dist/leaflet.js" ]]; then
	exit 0
fi
log "npm ci in web/"
(cd "$WEB" && npm ci --no-audit --no-fund --loglevel=error >&2)
[[ -f "$WEB/node_modules/leaflet/dist/leaflet.js" ]] || { log "leaflet is missing after npm ci"; exit 1; }
echo "$want" >"$stamp"
