#!/usr/bin/env bash
# packages.sh installs the Debian packages the tests use besides the services
# (services.sh installs PostgreSQL and Redis): fonts for the PDF route sheets
# (DejaVu has Cyrillic) and poppler-utils (pdftotext) to read them back;
# Debian's chromium (and chromium-driver) for the web console's browser tests,
# and Node.js with npm when the machine has none; python3 for load.sh (the load
# tool's smoke run in test.sh).
# Non-interactive and idempotent: it installs only what is missing.
set -euo pipefail

need=()
[[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ]] || need+=(fonts-dejavu-core)
command -v pdftotext >/dev/null || need+=(poppler-utils)
command -v chromium >/dev/null || need+=(chromium)
command -v chromedriver >/dev/null || need+=(chromium-driver)
command -v npm >/dev/null || need+=(nodejs npm)
command -v python3 >/dev/null || need+=(python3) # load.sh picks its free ports with it
for pkg in "$@"; do
	dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
((${#need[@]})) || exit 0

echo "packages: installing ${need[*]}" >&2
sudo=()
((EUID == 0)) || sudo=(sudo -n)
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq >&2
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
