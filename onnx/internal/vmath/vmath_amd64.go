//go:build amd64 && !purego

package vmath

import "golang.org/x/sys/cpu"

var haveAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA

//go:noescape
func logisticAVX2(dst, src *float32, n int)

//go:noescape
func hardSwishAVX2(dst, src *float32, n int, scale float32)
