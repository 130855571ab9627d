//go:build (amd64 && !purego) || arm64 || ppc64 || ppc64le || s390x || riscv64 || loong64

package onnx

// fused reports whether this build's convolutions multiply and add in one
// rounding, as onnxruntime does: the amd64 assembly kernels use FMA
// instructions, and the Go compiler fuses x*y + z on these platforms.
const fused = true
