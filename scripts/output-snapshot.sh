#!/usr/bin/env bash
# Writes the check output of every bundled example, test fixture and corpus project in every
# format to OUT, one file per (input, format), for byte-for-byte comparison between commits:
#   scripts/output-snapshot.sh target/release/purposelint /tmp/before
#   (change things, rebuild)
#   scripts/output-snapshot.sh target/release/purposelint /tmp/after && diff -r /tmp/before /tmp/after
set -uo pipefail
bin=$(readlink -f "${1:?usage: output-snapshot.sh BIN OUT}")
out=$(mkdir -p "${2:?usage: output-snapshot.sh BIN OUT}" && readlink -f "$2")
cd "$(dirname "$0")/.."
inputs=(examples examples/* tests/fixtures/* tests/fixtures/*/*)
if [ -d ../shared/corpus ]; then
    inputs+=(../shared/corpus/* ../shared/corpus/*/*)
fi
for input in "${inputs[@]}"; do
    [ -d "$input" ] || continue
    name=$(echo "$input" | tr '/.' '__')
    for format in human compact json sarif github gitlab; do
        "$bin" check "$input" --no-config --format "$format" --color never \
            >"$out/$name.$format" 2>&1
        echo "exit $?" >>"$out/$name.$format"
    done
done
"$bin" rules >"$out/rules.txt" 2>&1
"$bin" rules --format json >"$out/rules.json" 2>&1
