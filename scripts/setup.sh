#!/usr/bin/env bash
# Create .venv with the project and its test tools, and assemble the offline embedding
# model. Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[test,bench]"
.venv/bin/twin model fetch

# Chromium renders JavaScript pages (Medium profiles, LinkedIn) through scrapy-playwright.
# `playwright install` downloads from the internet; the Debian package needs only apt.
CHROMIUM="${TWIN_CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$CHROMIUM" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "Installing Chromium (Debian package) for rendered pages..."
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    else
        echo "warning: no Chromium at $CHROMIUM; rendering spiders need it" \
            "(as root: apt-get install -y chromium, or set TWIN_CHROMIUM)" >&2
    fi
fi
