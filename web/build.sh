#!/usr/bin/env bash
# Builds the browser version of veil: web/veil.wasm (cmd/veil-wasm, the
# default models embedded) and web/wasm_exec.js (Go's loader, which must
# match the Go version that built the .wasm). Serve web/ with
# 'go run ./cmd/veil serve-web'.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
GOOS=js GOARCH=wasm go build -trimpath -ldflags="-s -w" -o web/veil.wasm ./cmd/veil-wasm
root="$(go env GOROOT)"
for f in "$root/lib/wasm/wasm_exec.js" "$root/misc/wasm/wasm_exec.js"; do # Go 1.24+, then older
	if [ -f "$f" ]; then
		cp "$f" web/wasm_exec.js
		break
	fi
done
if [ ! -f web/wasm_exec.js ] || ! cmp -s web/wasm_exec.js "$f"; then
	echo "web/build.sh: wasm_exec.js not found in $root/lib/wasm or $root/misc/wasm" >&2
	exit 1
fi
raw=$(wc -c <web/veil.wasm)
gz=$(gzip -9 -c web/veil.wasm | wc -c)
echo "web/veil.wasm: $raw bytes ($(awk "BEGIN{printf \"%.1f\", $raw/1e6}") MB), gzip -9: $gz bytes ($(awk "BEGIN{printf \"%.1f\", $gz/1e6}") MB)"
