//go:build !amd64 || purego

package simd

// detected is Generic: veil has assembly kernels for amd64 only.
const detected = Generic
