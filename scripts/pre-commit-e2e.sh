#!/usr/bin/env bash
# End-to-end check of .pre-commit-hooks.yaml with the real pre-commit tool.
#
#   scripts/pre-commit-e2e.sh [HOOK]
#
# HOOK is `purposelint` (default: pre-commit builds this repository with `cargo install`,
# which is a full release build) or `purposelint-system` (uses `purposelint` from PATH; set
# PURPOSELINT_BIN to a binary to put it there, e.g. target/debug/purposelint).
#
# Installs pre-commit from PyPI into a throw-away virtualenv, creates a fixture git
# repository holding the tailored-audiences example, and runs `pre-commit try-repo` against
# this repository (committed files plus uncommitted changes to tracked files): it must fail on the finding, then pass once the join is edited out.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
hook=${1:-purposelint}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "== installing pre-commit into $work/venv"
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet --disable-pip-version-check pre-commit
export PATH="$work/venv/bin:$PATH"
export PRE_COMMIT_HOME="$work/cache"
pre-commit --version

if [ -n "${PURPOSELINT_BIN:-}" ]; then
    mkdir -p "$work/bin"
    ln -s "$(cd "$(dirname "$PURPOSELINT_BIN")" && pwd)/$(basename "$PURPOSELINT_BIN")" "$work/bin/purposelint"
    export PATH="$work/bin:$PATH"
fi

fixture="$work/fixture"
mkdir -p "$fixture"
cp -R "$repo/examples/tailored-audiences/." "$fixture/"
cd "$fixture"
git init --quiet
git config user.email e2e@localhost
git config user.name e2e
git add -A
git commit --quiet -m "fixture with a security-to-advertising flow"

echo "== 1. violation: pre-commit must fail"
set +e
pre-commit try-repo "$repo" "$hook" --all-files --color never 2>&1 | tee "$work/out1.txt"
status=${PIPESTATUS[0]}
set -e
if [ "$status" -eq 0 ]; then
    echo "FAIL: the hook passed on a violation" >&2
    exit 1
fi
if ! grep -q 'Found [1-9][0-9]* error' "$work/out1.txt" || ! grep -q 'security-to-advertising' "$work/out1.txt"; then
    echo "FAIL: the hook failed, but not with the finding" >&2
    exit 1
fi
echo "== hook failed as expected (exit $status)"

echo "== 2. fix: edit the join (and the security user_id mapping) out of the pipeline"
sed -i.bak -e '/^    join: /d' -e '/^      user_id: accounts.security_contacts.user_id$/d' pipelines/matching.yaml
rm pipelines/matching.yaml.bak
git add -A
pre-commit try-repo "$repo" "$hook" --all-files --color never
echo "== hook passed after the fix"
echo "OK"
