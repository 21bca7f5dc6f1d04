# Shared by the mount benchmarks (sourced, not run): building the binary, a fake org in the
# background, mounting and unmounting, timing, and the fake org's request counters.
# Expects `root`, `profile` and `bin` set by the caller; sets `workdir`, `url`, `client_id`,
# `client_secret`, `org_pid`, `mount_pid`.

for tool in curl jq fusermount3; do
    command -v "$tool" >/dev/null || { echo "this benchmark needs $tool" >&2; exit 1; }
done
if [ -z "${SFMOUNT_BIN:-}" ]; then
    if [ "$profile" = release ]; then
        (cd "$root" && cargo build --quiet --release --bin sfmount)
    else
        (cd "$root" && cargo build --quiet --bin sfmount)
    fi
fi

workdir="$(mktemp -d)"
org_pid=""
mount_pid=""
mounted_at=""
bench_cleanup() {
    stop_mount
    if [ -n "$org_pid" ]; then kill -TERM "$org_pid" 2>/dev/null || true; wait "$org_pid" 2>/dev/null || true; fi
    rm -rf "$workdir"
}
trap bench_cleanup EXIT

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
# Runs a command with output discarded; prints its wall time in milliseconds.
time_ms() { local t0; t0=$(now_ms); "$@" >/dev/null 2>&1 || true; echo $(( $(now_ms) - t0 )); }
best_of_3() { local best="" t; for _ in 1 2 3; do t=$(time_ms "$@"); if [ -z "$best" ] || [ "$t" -lt "$best" ]; then best=$t; fi; done; echo "$best"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else printf "n/a" }'; }

# start_fake_org RECORDS LATENCY_MS
start_fake_org() {
    "$bin" fake-org --records "$1" --latency-ms "$2" --api-limit 100000000 \
        >"$workdir/org.out" 2>"$workdir/org.err" &
    org_pid=$!
    for _ in $(seq 1 3000); do
        [ -s "$workdir/org.out" ] && break
        kill -0 "$org_pid" 2>/dev/null || { cat "$workdir/org.err" >&2; exit 1; }
        sleep 0.1
    done
    local first_line
    first_line="$(head -n1 "$workdir/org.out")"
    url="$(grep -o 'http://[^ ]*' <<<"$first_line")"
    client_id="$(grep -o 'client_id=[^ ]*' <<<"$first_line" | cut -d= -f2)"
    client_secret="$(grep -o 'client_secret=[^ ]*' <<<"$first_line" | cut -d= -f2)"
}
stats() { curl -sf "$url/_fake/stats"; }
# Every request the mounts made (token requests included).
api_usage() { stats | jq '[.requests[]] | add'; }

# start_mount MOUNTPOINT [ARGS...]: mounts in the background and waits until it answers;
# `mounted_at` is then the time (ms) the mount appeared.
start_mount() {
    local mnt="$1"; shift
    SFMOUNT_CLIENT_SECRET="$client_secret" RUST_LOG=warn "$bin" mount "$mnt" \
        --login-url "$url" --client-id "$client_id" "$@" 2>>"$workdir/mount.err" &
    mount_pid=$!
    for _ in $(seq 1 6000); do
        grep -q " $mnt " /proc/mounts && break
        kill -0 "$mount_pid" 2>/dev/null || { cat "$workdir/mount.err" >&2; exit 1; }
        sleep 0.01
    done
    mounted_at=$(now_ms)
    bench_mountpoint="$mnt"
}
stop_mount() {
    if [ -n "$mount_pid" ]; then kill -TERM "$mount_pid" 2>/dev/null || true; wait "$mount_pid" 2>/dev/null || true; fi
    mount_pid=""
    if [ -n "${bench_mountpoint:-}" ] && grep -q " $bench_mountpoint " /proc/mounts; then
        fusermount3 -u -z "$bench_mountpoint" 2>/dev/null || umount -l "$bench_mountpoint" || true
    fi
}
peak_rss_mib() { awk '/^VmHWM:/ {printf "%.1f", $2 / 1024}' "/proc/$mount_pid/status"; }
