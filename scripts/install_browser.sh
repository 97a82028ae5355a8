#!/usr/bin/env bash
# Headless Chromium for the web-page tests, from Debian's packages (no browser download at run time),
# and axe-core from npm for their accessibility check (kept in .cache/axe; skipped without npm).
set -euo pipefail
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "chromium not found: install Debian's 'chromium' package to run the browser test" >&2
  fi
fi
AXE_DIR="$(dirname "$0")/../.cache/axe"
if [ ! -f "$AXE_DIR/axe.min.js" ] && command -v npm >/dev/null 2>&1; then
  mkdir -p "$AXE_DIR"
  if npm install --silent --no-audit --no-fund --prefix "$AXE_DIR" axe-core@4 >/dev/null 2>&1; then
    cp "$AXE_DIR/node_modules/axe-core/axe.min.js" "$AXE_DIR/axe.min.js"
  else
    echo "axe-core not installed (npm failed): the accessibility test will be skipped" >&2
  fi
fi
