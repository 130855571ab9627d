#!/usr/bin/env bash
# Builds the browser version of veil: web/veil.wasm (cmd/veil-wasm, the
# default models embedded), web/wasm_exec.js (Go's loader, which must
# match the Go version that built the .wasm) and, when npm is installed,
# web/ort/: the files of onnxruntime-web (pinned in web/package.json,
# installed with npm ci) that run the models with WebAssembly SIMD and
# threads. Without web/ort/ the page runs the models on veil's pure-Go
# runtime. Prints the size of each file the page downloads, raw and with
# gzip -9. Serve web/ with 'go run ./cmd/veil serve-web'.
#
# VEIL_WEB_NO_ORT=1 leaves web/ort/ out (and removes it).
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

# onnxruntime-web: the script that sets globalThis.ort (WebAssembly
# backend only) and its SIMD + threads WebAssembly with the module that
# starts it (and its threads' workers).
ort_files="ort.wasm.min.js ort-wasm-simd-threaded.mjs ort-wasm-simd-threaded.wasm"
# With WebGPU (where the browser has an adapter, the worker loads these
# instead): the script with the WebGPU execution provider and its
# WebAssembly (its asyncify build).
ort_gpu_files="ort.webgpu.min.js ort-wasm-simd-threaded.asyncify.mjs ort-wasm-simd-threaded.asyncify.wasm"
rm -rf web/ort
if [ "${VEIL_WEB_NO_ORT:-}" = 1 ]; then
	echo "web/build.sh: VEIL_WEB_NO_ORT=1: no web/ort/, the page runs the models on the pure-Go runtime"
elif ! command -v npm >/dev/null; then
	echo "web/build.sh: npm is not installed: no web/ort/, the page runs the models on the pure-Go runtime (slower)" >&2
else
	dist=web/node_modules/onnxruntime-web/dist
	want=$(sed -n 's/.*"onnxruntime-web": *"\([^"]*\)".*/\1/p' web/package.json)
	have=""
	if [ -f web/node_modules/onnxruntime-web/package.json ]; then
		have=$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' web/node_modules/onnxruntime-web/package.json | head -1)
	fi
	if [ "$have" != "$want" ] || [ web/package-lock.json -nt web/node_modules/.package-lock.json ]; then
		(cd web && npm ci --no-audit --no-fund --ignore-scripts) ||
			echo "web/build.sh: npm ci in web/ failed: no web/ort/, the page runs the models on the pure-Go runtime (slower)" >&2
	fi
	if [ -f "$dist/ort-wasm-simd-threaded.wasm" ]; then
		mkdir -p web/ort
		for f in $ort_files $ort_gpu_files; do
			cp "$dist/$f" web/ort/
		done
		echo "web/build.sh: onnxruntime-web $want in web/ort/"
	fi
fi

# sizes PREFIX FILE...: prints the raw and gzip -9 size of each file of
# web/ that exists, then their sum, the line starting with PREFIX.
sizes() {
	local prefix=$1 total=0 total_gz=0 f raw gz
	shift
	for f in "$@"; do
		[ -f "web/$f" ] || continue
		raw=$(wc -c <"web/$f")
		gz=$(gzip -9 -c "web/$f" | wc -c)
		total=$((total + raw))
		total_gz=$((total_gz + gz))
		printf 'web/%-40s %10d bytes, gzip -9 %10d bytes\n' "$f" "$raw" "$gz"
	done
	if [ "$total" -gt 0 ]; then
		printf '%s %d bytes (%s MB), %d bytes (%s MB) with gzip -9\n' "$prefix" "$total" "$(awk "BEGIN{printf \"%.1f\", $total/1e6}")" "$total_gz" "$(awk "BEGIN{printf \"%.1f\", $total_gz/1e6}")"
	fi
}

# What the page downloads: every file, raw and gzip -9; where the browser
# has WebGPU, the ort/ files of WebGPU instead of the three above.
sizes "the page downloads" index.html style.css app.js worker.js wasm_exec.js veil.wasm $(for o in $ort_files; do echo "ort/$o"; done)
sizes "with WebGPU its ort/ files are instead" $(for o in $ort_gpu_files; do echo "ort/$o"; done)
