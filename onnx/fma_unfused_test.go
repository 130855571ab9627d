//go:build !((amd64 && !purego) || arm64 || ppc64 || ppc64le || s390x || riscv64 || loong64)

package onnx

// fused reports whether this build's convolutions multiply and add in one
// rounding, as onnxruntime does: not here (the portable kernels on amd64,
// 386, WebAssembly), where each product is rounded before it is added.
const fused = false
