#!/usr/bin/env bash
# End-to-end check of `graph` and `check --format html` with the real tools (opt-in; not
# part of `cargo test`):
#
#   scripts/explain-e2e.sh [--screenshot]
#
# 1. Graphviz renders `purposelint graph` DOT (collapsed and --fields) of the examples and
#    fixtures with `dot -Tsvg`.
# 2. Mermaid's own parser and renderer (@mermaid-js/mermaid-cli, in Debian's Chromium)
#    turns the same graphs' Mermaid into SVG.
# 3. The HTML report of examples/tailored-audiences opens in headless Chromium
#    (playwright-core driving /usr/bin/chromium): it must request nothing but itself,
#    log no error, contain no http(s):// reference and show the three findings; a
#    light and a dark screenshot are taken (--screenshot copies the light one to
#    docs/html-report.png).
# 4. A generated run of about 10,000 findings (examples/gen-corpus.rs, 20,000 files, every
#    pipeline violating) must show its first frame within 2 s of opening.
#
# Needs root for apt-get when Graphviz or Chromium is missing (Debian packages graphviz,
# chromium) and the npm registry for playwright-core and @mermaid-js/mermaid-cli, which
# are installed into target/e2e-node (puppeteer's own browser download is skipped).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
node_dir=${PURPOSELINT_E2E_NODE:-$repo/target/e2e-node}
screenshot=0
[ "${1:-}" = "--screenshot" ] && screenshot=1

if ! command -v dot >/dev/null || [ ! -x /usr/bin/chromium ]; then
    echo "== installing graphviz and chromium (Debian)"
    apt-get update -qq
    apt-get install -y -qq graphviz chromium fonts-dejavu-core >/dev/null
fi
dot -V
/usr/bin/chromium --version

if [ ! -x "$node_dir/node_modules/.bin/mmdc" ] || [ ! -d "$node_dir/node_modules/playwright-core" ]; then
    echo "== installing playwright-core and @mermaid-js/mermaid-cli into $node_dir"
    mkdir -p "$node_dir"
    (cd "$node_dir" && [ -f package.json ] || npm init -y >/dev/null)
    (cd "$node_dir" && PUPPETEER_SKIP_DOWNLOAD=1 npm install --no-audit --no-fund --silent \
        playwright-core@1 @mermaid-js/mermaid-cli@11)
fi
cp scripts/e2e/browser-check.mjs "$node_dir/"
flags='"--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"'
echo "{\"executablePath\": \"/usr/bin/chromium\", \"args\": [$flags]}" >"$work/puppeteer.json"

echo "== building"
cargo build --release --locked --bin purposelint --example gen-corpus
bin=$repo/target/release/purposelint

projects=(examples/tailored-audiences examples/consented-marketing tests/fixtures/fides/security-egress
    tests/fixtures/dbt/klaviyo tests/fixtures/coverage)
n=0
for p in "${projects[@]}"; do
    for level in "" --fields; do
        n=$((n + 1))
        # shellcheck disable=SC2086
        "$bin" graph "$p" --format dot $level >"$work/g$n.dot"
        dot -Tsvg "$work/g$n.dot" -o "$work/g$n.dot.svg"
        # shellcheck disable=SC2086
        "$bin" graph "$p" --format mermaid $level >"$work/g$n.mmd"
        "$node_dir/node_modules/.bin/mmdc" -q -p "$work/puppeteer.json" -i "$work/g$n.mmd" -o "$work/g$n.mmd.svg"
        [ -s "$work/g$n.dot.svg" ] && [ -s "$work/g$n.mmd.svg" ]
        echo "graph ok: $p ${level:-(datasets)}: dot $(wc -c <"$work/g$n.dot.svg") B, mermaid $(wc -c <"$work/g$n.mmd.svg") B of SVG"
    done
done

echo "== HTML report of examples/tailored-audiences"
page=$work/tailored-audiences.html
"$bin" check examples/tailored-audiences --format html -o "$page" || [ $? = 1 ]
if grep -nE 'https?://' "$page"; then
    echo "FAIL: the page holds an http(s) reference" >&2
    exit 1
fi
node "$node_dir/browser-check.mjs" "$page" "$work/report.png" --findings 3 --dark "$work/report-dark.png"
if [ "$screenshot" = 1 ]; then
    cp "$work/report.png" docs/html-report.png
    echo "wrote docs/html-report.png"
fi

echo "== HTML report of about 10,000 findings"
corpus=$work/corpus
target/release/examples/gen-corpus --files 20000 --seed 1 --violating 1.0 "$corpus"
big=$work/large.html
start=$(date +%s%N)
"$bin" check "$corpus" --format html -o "$big" || [ $? = 1 ]
echo "report written in $((($(date +%s%N) - start) / 1000000)) ms, $(wc -c <"$big") bytes"
node "$node_dir/browser-check.mjs" "$big" "$work/large.png" --max-ms 2000
echo "explain e2e: all checks passed"
