#!/usr/bin/env bash
# run.sh starts courierd with the demo city and the web console on a fresh
# machine: it installs the console's npm packages when needed (scripts/web.sh),
# compiles courierd into bin/courierd with a progress counter (the first build
# compiles a few hundred packages, SQLite and H3's C sources among them, and
# takes minutes; later builds take seconds), then runs `bin/courierd --demo`
# with the arguments given.
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

echo "run.sh: compiling courierd. The first build on a machine downloads the modules and compiles" >&2
echo "run.sh: several hundred packages (SQLite and H3's C sources among them): it takes several minutes," >&2
echo "run.sh: later builds take seconds. Progress follows." >&2
echo "run.sh: downloading modules (go mod download)" >&2
go mod download
total=$(go list -deps ./cmd/courierd | wc -l)
echo "run.sh: courierd needs $total packages; each one compiled is counted below" >&2
# go build -v names each package as it compiles it (cached ones are not named):
# count them against the packages courierd depends on.
progress() {
	local n=0 line
	while IFS= read -r line; do
		if [[ $line =~ ^[A-Za-z0-9_.~/-]+$ ]]; then
			n=$((n + 1))
			echo "run.sh: compiling [$n/$total] $line" >&2
		else
			echo "$line" >&2
		fi
	done
}
if ! go build -v -o bin/courierd ./cmd/courierd 2>&1 | progress; then
	echo "run.sh: the build failed" >&2
	exit 1
fi
echo "run.sh: built bin/courierd; starting it" >&2
exec bin/courierd --demo "$@"
