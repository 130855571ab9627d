#!/usr/bin/env bash
# The project's test command (the README's second set-up command).
# Tests that need ../shared (conformance data, evaluation data) say so and
# skip when it is absent.
set -euo pipefail
cd "$(dirname "$0")"
go vet ./...
go vet -tags purego ./...
go test -count=1 ./...
# The portable kernels (the WASM build uses them) against the same goldens.
go test -count=1 -tags purego ./onnx/...
# Concurrency of a loaded model and of the kernels.
go test -count=1 -race -run 'TestConcurrentRuns|TestRunErrors' ./onnx/
go test -count=1 -race ./onnx/internal/...
# A short fuzz of the protobuf decoder and the loader.
go test -run '^$' -fuzz '^FuzzDecodeModel$' -fuzztime 20s -fuzzminimizetime 50x ./onnx/internal/pb/
go test -run '^$' -fuzz '^FuzzLoad$' -fuzztime 20s -fuzzminimizetime 50x ./onnx/
