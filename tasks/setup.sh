#!/usr/bin/env bash
# Installs everything the study needs on a fresh Debian machine with Node.js and npm.
# That is Deno from the npm registry and the npm packages that deno.lock pins. It also installs the
# Debian packages for Jupyter, which executes the notebooks, and fonts, which draw text in PNG figures.
set -euo pipefail
cd "$(dirname "$0")/.."

DENO_VERSION=2.9.6
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

if ! command -v deno >/dev/null 2>&1 || ! deno --version | grep -q "deno ${DENO_VERSION} "; then
  echo "Installing Deno ${DENO_VERSION} from the npm registry" >&2
  $SUDO npm install -g --no-fund --no-audit "deno@${DENO_VERSION}" >&2
fi

missing=""
for package in python3-jupyter-client python3-nbformat fonts-dejavu-core; do
  dpkg -s "$package" >/dev/null 2>&1 || missing="$missing $package"
done
if [ -n "$missing" ]; then
  echo "Installing Debian packages:$missing" >&2
  $SUDO apt-get update -qq >&2
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >&2
fi

echo "Installing npm packages pinned in deno.lock" >&2
deno install --frozen >&2
echo "Setup done: $(deno --version | head -n 1)" >&2
