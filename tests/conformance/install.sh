#!/usr/bin/env bash
# Installs the third-party clients the conformance run needs, inside this folder only:
# simple-salesforce in a Python venv (.venv) and jsforce 3 with npm (node_modules).
# Does nothing when they are already there. Needs python3 and node/npm; on Debian, as root,
# it installs python3-venv with apt-get when the venv module is missing.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/.venv"
# Every step has a deadline so a stuck install never hangs CI.
step_timeout=600

log() { printf 'conformance: %s\n' "$*" >&2; }

ensure_venv() {
    if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c 'import simple_salesforce' 2>/dev/null; then
        return
    fi
    if ! python3 -m venv "$venv" 2>/dev/null; then
        rm -rf "$venv"
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
            log "python3 venv module missing; installing python3-venv with apt-get"
            local minor
            minor="$(python3 -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
            timeout "$step_timeout" apt-get update -qq
            DEBIAN_FRONTEND=noninteractive timeout "$step_timeout" \
                apt-get install -y -qq python3-venv "python${minor}-venv" >/dev/null ||
                DEBIAN_FRONTEND=noninteractive timeout "$step_timeout" \
                    apt-get install -y -qq python3-venv >/dev/null
            python3 -m venv "$venv"
        else
            log "python3 cannot create a virtual environment (install python3-venv)"
            exit 1
        fi
    fi
    log "installing simple-salesforce into $venv"
    timeout "$step_timeout" "$venv/bin/python" -m pip install -q --disable-pip-version-check \
        'simple-salesforce>=1.12,<2'
}

ensure_jsforce() {
    if [ -f "$here/node_modules/jsforce/package.json" ]; then
        return
    fi
    log "installing jsforce 3 with npm"
    (cd "$here" && timeout "$step_timeout" npm install --no-audit --no-fund --silent)
}

ensure_venv
ensure_jsforce
