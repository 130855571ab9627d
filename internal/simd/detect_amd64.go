//go:build amd64 && !purego

package simd

import "golang.org/x/sys/cpu"

// detected is the best level of this CPU. golang.org/x/sys/cpu reports
// AVX, AVX2 and AVX-512 only where the operating system saves their
// registers.
var detected = func() Level {
	x := cpu.X86
	switch {
	case !x.HasAVX2 || !x.HasFMA:
		return Generic
	case !x.HasAVX512F || !x.HasBMI2:
		return AVX2
	}
	return AVX512
}()
