#!/usr/bin/env bash
# The browser tests drive Debian's chromium through playwright (never `playwright install`).
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
    exit 0
fi
if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
else
    echo "The browser tests need Debian's chromium: sudo apt-get install chromium" >&2
    exit 1
fi
