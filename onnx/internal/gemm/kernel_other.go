//go:build !amd64 || purego

package gemm

// kern is the kernel family used by PackA and Gemm.
var kern = &goKernels

// kernelSets lists the kernel families this machine can run.
func kernelSets() []*kernelSet { return []*kernelSet{&goKernels} }

func runStrip(_ kernelID, s *strip) { stripGo(s) }
