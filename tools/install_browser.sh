#!/usr/bin/env bash
# Installs Debian's Chromium for the web-page test (tests/test_use_webapp.py), which drives it with
# Playwright. Playwright's own browser download is never used. Does nothing when Chromium is there.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
    echo "chromium already installed: $(/usr/bin/chromium --version 2>/dev/null || echo /usr/bin/chromium)"
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends chromium
/usr/bin/chromium --version
