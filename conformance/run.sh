#!/usr/bin/env bash
# Runs the conformance suite: Microsoft's own Python clients (msal, msgraph-sdk) against `tenure sandbox`.
#
#   conformance/run.sh [pytest args...]
#
# Environment:
#   CONFORMANCE_VENV  the virtualenv to create or reuse (default: <repo>/.venv-conformance)
#   TENURE_BIN        the tenure binary (default: <repo>/target/debug/tenure, built with `cargo build -p cli`
#                     when missing)
#
# Exits non-zero when a test fails, and also when pytest collects no test at all (its exit status 5).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
venv="${CONFORMANCE_VENV:-$repo/.venv-conformance}"
requirements="$here/requirements.txt"

if [[ ! -x "$venv/bin/python" ]]; then
    echo "conformance: creating the virtualenv $venv" >&2
    python3 -m venv "$venv"
fi
# Reinstall only when requirements.txt changed since the last successful install.
stamp="$venv/.conformance-requirements.sha256"
wanted="$(sha256sum "$requirements" | cut -d' ' -f1)"
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$wanted" ]]; then
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
    echo "$wanted" >"$stamp"
fi

export TENURE_BIN="${TENURE_BIN:-$repo/target/debug/tenure}"
if [[ ! -x "$TENURE_BIN" ]]; then
    echo "conformance: building $TENURE_BIN (cargo build -p cli)" >&2
    (cd "$repo" && cargo build --quiet -p cli)
fi
if [[ ! -x "$TENURE_BIN" ]]; then
    echo "conformance: $TENURE_BIN does not exist" >&2
    exit 1
fi

cd "$repo"
status=0
"$venv/bin/python" -m pytest -q conformance/tests "$@" || status=$?
if [[ $status -eq 5 ]]; then
    echo "conformance: pytest collected no tests; treating that as a failure" >&2
    exit 1
fi
exit "$status"
