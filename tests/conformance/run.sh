#!/usr/bin/env bash
# Runs real third-party Salesforce clients, unmodified, against `sfmount fake-org`:
# simple-salesforce (PyPI) and jsforce 3 (npm). Installs what is missing, starts the fake org,
# runs both scripts, stops the server, and exits non-zero if anything failed.
#
# Installation is install.sh's job (python3 and node/npm needed). SFMOUNT_BIN overrides the
# server binary (default: target/debug/sfmount, built when missing).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="$here/.venv"
# Every step has a deadline so a stuck install or client never hangs CI.
step_timeout=600
records=2500

log() { printf 'conformance: %s\n' "$*" >&2; }

ensure_binary() {
    bin="${SFMOUNT_BIN:-$root/target/debug/sfmount}"
    if [ ! -x "$bin" ]; then
        log "building sfmount"
        (cd "$root" && timeout "$step_timeout" cargo build --quiet --bin sfmount)
    fi
}

bash "$here/install.sh"
ensure_binary

workdir="$(mktemp -d)"
server_pid=""
cleanup() {
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$workdir"
}
trap cleanup EXIT

"$bin" fake-org --listen 127.0.0.1:0 --records "$records" >"$workdir/stdout" 2>"$workdir/stderr" &
server_pid=$!

# The first stdout line names the URL and the credentials; wait up to 60 s for it.
line=""
for _ in $(seq 1 600); do
    line="$(head -n 1 "$workdir/stdout" 2>/dev/null || true)"
    [ -n "$line" ] && break
    if ! kill -0 "$server_pid" 2>/dev/null; then
        log "the fake org exited early:"
        cat "$workdir/stderr" >&2
        exit 1
    fi
    sleep 0.1
done
if [ -z "$line" ]; then
    log "the fake org printed nothing within 60 s"
    exit 1
fi

SF_URL="$(grep -o 'http://[^ ]*' <<<"$line")"
SF_CLIENT_ID="$(sed -n 's/.*client_id=\([^ ]*\).*/\1/p' <<<"$line")"
SF_CLIENT_SECRET="$(sed -n 's/.*client_secret=\([^ ]*\).*/\1/p' <<<"$line")"
export SF_URL SF_CLIENT_ID SF_CLIENT_SECRET
log "fake org at $SF_URL"

status=0
timeout "$step_timeout" "$venv/bin/python" "$here/simple_salesforce_test.py" || status=1
timeout "$step_timeout" node "$here/jsforce_test.mjs" || status=1

if [ "$status" -ne 0 ]; then
    log "FAILED (server log follows)"
    tail -n 50 "$workdir/stderr" >&2 || true
else
    log "all conformance checks passed"
fi
exit "$status"
