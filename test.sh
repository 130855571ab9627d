#!/usr/bin/env bash
# The project's test command (the README's second set-up command).
# Tests that need ../shared (conformance data, evaluation data) say so and
# skip when it is absent.
set -euo pipefail
cd "$(dirname "$0")"
go vet ./...
go vet -tags purego ./...
# Pure Go builds everywhere: a 32-bit platform (where int is 32 bits),
# macOS on Apple silicon, Windows.
GOARCH=386 go vet ./...
GOOS=darwin GOARCH=arm64 go vet ./...
GOOS=windows go vet ./...
# staticcheck (from the module proxy, pinned): unused code, deprecated
# calls, simplifications.
go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...
go test -count=1 ./...
# The portable kernels (the WASM build uses them), against onnxruntime's
# outputs on synthetic and real inputs and the conformance suite.
go test -count=1 -tags purego ./onnx/internal/...
go test -count=1 -tags purego -run 'TestGolden|TestConformance|TestRunErrors|TestDynamicShapes' ./onnx/
# Concurrency of a loaded model and of the kernels.
go test -count=1 -race -run 'TestConcurrentRuns|TestRunErrors' ./onnx/
go test -count=1 -race ./onnx/internal/...
# Fuzz budgets are counts of executions, not durations: a duration-bounded
# -fuzztime can fail with "context deadline exceeded" when it expires while a
# worker is mid-call (a race in Go's fuzz coordinator, go.dev/issue/75804,
# fixed in Go 1.27). The counts take 10-20 s each on this project's CI machine.
# A short fuzz of the protobuf decoder and the loader.
go test -run '^$' -fuzz '^FuzzDecodeModel$' -fuzztime 200000x -fuzzminimizetime 50x ./onnx/internal/pb/
go test -run '^$' -fuzz '^FuzzLoad$' -fuzztime 600000x -fuzzminimizetime 50x ./onnx/
# The option parser the CLI, the server and the browser share: what it
# accepts the engine must accept.
go test -run '^$' -fuzz '^FuzzParamsSet$' -fuzztime 300000x -fuzzminimizetime 50x .
# Ignore regions never ignore a pixel outside the regions as written (overflow).
go test -run '^$' -fuzz '^FuzzIgnores$' -fuzztime 200000x -fuzzminimizetime 50x .
# The EXIF sanitizer decides what of a photo's metadata may leave with it.
go test -run '^$' -fuzz '^FuzzSanitizeEXIF$' -fuzztime 600000x -fuzzminimizetime 50x ./internal/imageio/
# The browser build (cmd/veil-wasm, web/): its JS API under node with Go's
# js/wasm test runner, then the page end to end in a real Chromium
# (web/e2e/e2e.mjs: Debian's /usr/bin/chromium driven by playwright-core;
# no browser is downloaded). .ci/run installs chromium.
GOOS=js GOARCH=wasm go vet ./cmd/veil-wasm
wasm_exec="$(go env GOROOT)/lib/wasm/go_js_wasm_exec" # Go 1.24+
[ -x "$wasm_exec" ] || wasm_exec="$(go env GOROOT)/misc/wasm/go_js_wasm_exec"
if command -v node >/dev/null; then
	GOOS=js GOARCH=wasm go test -count=1 -exec="$wasm_exec" ./cmd/veil-wasm
else
	echo "test.sh: skipping the js/wasm tests of cmd/veil-wasm: node is not installed"
fi
missing=""
[ -x /usr/bin/chromium ] || missing="$missing /usr/bin/chromium (apt-get install chromium; .ci/run does)"
command -v node >/dev/null || missing="$missing node"
command -v npm >/dev/null || missing="$missing npm"
if [ -z "$missing" ]; then
	web/build.sh && (cd web/e2e && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund && node e2e.mjs)
else
	echo "test.sh: skipping the browser end-to-end test (web/e2e): missing$missing"
fi
# The optional onnxruntime backend (-tags ort, cgo): go vet with the tag,
# the default build without cgo, then the parity tests (pure Go vs
# onnxruntime: detections, masks, raw outputs of every model) on the CPU
# library of onnxruntime-node, installed here by npm when missing.
CGO_ENABLED=0 go build ./...
ort_lib="$PWD/bench/ort/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1"
missing=""
command -v gcc >/dev/null || missing="$missing gcc"
if [ ! -e "$ort_lib" ] && [ -z "${VEIL_ORT_LIB:-}" ]; then
	command -v npm >/dev/null || missing="$missing npm"
fi
if [ -z "$missing" ]; then
	if [ -z "${VEIL_ORT_LIB:-}" ]; then
		[ -e "$ort_lib" ] || (cd bench/ort && ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund)
		export VEIL_ORT_LIB="$ort_lib"
	fi
	go vet -tags ort ./...
	go test -tags ort -count=1 -run 'ORT|Ort|Backend' . ./onnx/... ./cmd/...
else
	echo "test.sh: skipping the onnxruntime backend tests (-tags ort): missing$missing"
fi
