package onnx

import "unsafe"

// int64View reinterprets the first 2n float32s of buf as n int64s, so
// that int64 values computed at run time can share the planner's buffers.
// Go allocates float32 slices of 2 or more elements 8-byte aligned.
func int64View(buf []float32, n int) []int64 {
	if n == 0 {
		return []int64{}
	}
	_ = buf[2*n-1]
	return unsafe.Slice((*int64)(unsafe.Pointer(&buf[0])), n)
}
