#!/usr/bin/env bash
# Headless Chromium for the web-page test, from Debian's packages (no browser download at run time).
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
else
  echo "chromium not found: install Debian's 'chromium' package to run the browser test" >&2
fi
