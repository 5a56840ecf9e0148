#!/usr/bin/env bash
# run.sh starts courierd with the demo city and the web console on a fresh
# machine: it installs the console's npm packages when needed (scripts/web.sh),
# then runs `go run ./cmd/courierd --demo` with the arguments given.
#
#   scripts/run.sh                      http://localhost:8080/console/ (and the courier app at /app/)
#   scripts/run.sh --addr :9090         any courierd flag
#
# Without npm the API still starts; /console/ then says how to install it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if ! command -v go >/dev/null; then
	for d in /usr/local/go/bin "$HOME/go/bin" /usr/lib/go/bin; do
		[[ -x $d/go ]] && PATH="$d:$PATH" && break
	done
fi
command -v go >/dev/null || { echo "run.sh: go is not installed" >&2; exit 1; }
scripts/web.sh || echo "run.sh: the console's npm packages are not installed; starting the API alone" >&2
exec go run ./cmd/courierd --demo "$@"
