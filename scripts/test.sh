#!/usr/bin/env bash
# test.sh is the project's one test command, the same on a laptop and in CI:
# it starts (or reuses) the real services with scripts/services.sh, exports
# their URLs, then runs go vet and go test -race over the module.
#
#   scripts/test.sh                 everything
#   scripts/test.sh ./store/...     only these packages (passed to go vet and go test)
#
# The exit code is non-zero when any step fails. With CI=true the services
# are stopped at the end.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! command -v go >/dev/null; then
	for d in /usr/local/go/bin "$HOME/go/bin" /usr/lib/go/bin; do
		[[ -x $d/go ]] && PATH="$d:$PATH" && break
	done
fi
command -v go >/dev/null || { echo "test.sh: go is not installed" >&2; exit 1; }

scripts/packages.sh || { echo "test.sh: scripts/packages.sh failed" >&2; exit 1; }
services=$(scripts/services.sh) || { echo "test.sh: scripts/services.sh failed" >&2; exit 1; }
eval "$services"
export COURIER_TEST_POSTGRES_URL COURIER_TEST_REDIS_URL
echo "test.sh: COURIER_TEST_POSTGRES_URL=$COURIER_TEST_POSTGRES_URL" >&2
echo "test.sh: COURIER_TEST_REDIS_URL=$COURIER_TEST_REDIS_URL" >&2
if [[ ${CI:-} == true ]]; then
	trap 'scripts/services.sh stop || true' EXIT
fi

# --- web console and courier app -----------------------------------------------
# On a full run (no package arguments): the npm packages (scripts/web.sh,
# npm ci), the unit tests of the console and the courier app (node --test
# web/test) and their end-to-end tests in Debian's chromium driven by
# playwright-core (web/e2e: console.test.mjs, app.test.mjs with a phone
# profile) against a courierd built from this checkout; screenshots go to
# test-artifacts/e2e/.
web_status=0
if (($# == 0)); then
	if scripts/web.sh; then
		echo "test.sh: web unit tests (node --test web/test)" >&2
		(cd web && node --test test/) || web_status=$?
		echo "test.sh: web end-to-end tests in chromium (node --test web/e2e)" >&2
		(cd web && node --test --test-concurrency=1 e2e/) || web_status=$?
	else
		echo "test.sh: scripts/web.sh failed" >&2
		web_status=1
	fi
fi
# ------------------------------------------------------------------------------

# --- container image ------------------------------------------------------------
# On a full run: no container engine runs here, so scripts/docker-check.sh
# runs the Dockerfile's build steps and the image's command on the host and
# checks the healthcheck, console, fonts and compose settings.
docker_status=0
if (($# == 0)); then
	echo "test.sh: container image steps on the host (scripts/docker-check.sh)" >&2
	scripts/docker-check.sh || docker_status=$?
fi
# --- load tool ------------------------------------------------------------------
# On a full run: scripts/load.sh end to end, every phase for a moment on a
# few hundred couriers and two replicas (the tool exits non-zero when a
# request fails); the figures themselves are measured by hand (README,
# "Load").
load_status=0
if (($# == 0)); then
	echo "test.sh: load tool smoke run (scripts/load.sh, every phase, 2 s each)" >&2
	LOAD_DB=courier_load_smoke FRESH=1 scripts/load.sh -duration 2s -mix 12s -couriers 300 -working 5 -stops 4 -plan-seconds 2 \
		-phases raw-geoadd,raw-geosearch,gps,gps-road,nearby,today,sync,orders,mix >test-artifacts/load-smoke.txt 2>&1 || load_status=$?
	if ((load_status != 0)); then
		tail -n 40 test-artifacts/load-smoke.txt >&2
		echo "test.sh: the load tool smoke run failed (test-artifacts/load-smoke.txt)" >&2
	fi
fi
# ------------------------------------------------------------------------------

pkgs=("$@")
((${#pkgs[@]})) || pkgs=(./...)

status=$web_status
((docker_status == 0)) || status=$docker_status
((load_status == 0)) || status=$load_status
echo "test.sh: go vet ${pkgs[*]}" >&2
go vet "${pkgs[@]}" || status=$?
echo "test.sh: go test -race -count=1 ${pkgs[*]}" >&2
go test -race -count=1 "${pkgs[@]}" || status=$?
if ((status != 0)); then
	echo "test.sh: FAILED (exit $status)" >&2
fi
exit "$status"
