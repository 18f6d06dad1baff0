#!/usr/bin/env bash
# Runs every fuzz target of the sandbox for N seconds each (N = $1, default 30), starting from the committed
# seed corpus. Installs cargo-fuzz (from crates.io) when it is missing. Exits non-zero on the first crash;
# the crashing input is left under fuzz/artifacts/<target>/.
set -euo pipefail

seconds="${1:-30}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi
if ! rustup run nightly rustc --version >/dev/null 2>&1; then
    echo "smoke.sh: cargo-fuzz needs a nightly toolchain (rustup toolchain install nightly)" >&2
    exit 2
fi

for target in $(cargo +nightly fuzz list); do
    corpus="corpus/$target"
    mkdir -p "$corpus"
    if [ -d "corpus_seed/$target" ]; then
        cp -n "corpus_seed/$target"/* "$corpus"/ 2>/dev/null || true
    fi
    echo "smoke.sh: fuzzing $target for ${seconds}s"
    cargo +nightly fuzz run "$target" "$corpus" -- -max_total_time="$seconds" -rss_limit_mb=4096 -max_len=4096 -timeout=10
done
echo "smoke.sh: no crash in $(cargo +nightly fuzz list | wc -l) targets"
