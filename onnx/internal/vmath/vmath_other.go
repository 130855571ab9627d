//go:build !amd64 || purego

package vmath

const haveAVX2 = false

func logisticAVX2(dst, src *float32, n int) { panic("unreachable") }

func hardSwishAVX2(dst, src *float32, n int, scale float32) { panic("unreachable") }
