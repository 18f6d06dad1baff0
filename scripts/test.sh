#!/usr/bin/env bash
# The README's test command: every suite Tenure has, in the order a failure is cheapest to find.
# Usage: scripts/test.sh            (everything)
#        FUZZ_SECONDS=0 scripts/test.sh   (skip the fuzz smoke run)
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "formatting"
cargo fmt --all -- --check

step "repository checks (module docs, crate map, dependency boundaries)"
cargo xtask ci

step "clippy"
cargo clippy --workspace --all-targets --quiet -- -D warnings

step "Rust tests"
cargo test --workspace --quiet

step "conformance suite (Microsoft's msal and msgraph-sdk against the sandbox)"
cargo build --quiet -p cli
TENURE_BIN="$PWD/target/debug/tenure" conformance/run.sh

if [ "${FUZZ_SECONDS:-20}" != "0" ]; then
  step "fuzz smoke run (\$filter and \$batch parsers)"
  crates/sandbox/fuzz/smoke.sh "${FUZZ_SECONDS:-20}"
fi

step "all suites passed"
