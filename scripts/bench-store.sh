#!/bin/sh
# Seeding time and memory of the fake org's store: a store of RECORDS per object against a
# baseline of RECORDS/10 built in the same run. Figures only, never pass/fail.
# Usage: scripts/bench-store.sh [RECORDS]   (default 10000; debug build, optimised deps)
set -eu
cd "$(dirname "$0")/.."
cargo run --quiet --example store_bench -- "${1:-10000}"
