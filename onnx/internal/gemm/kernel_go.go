package gemm

//go:generate go run gen_kernel_go.go -out kernel_go_gen.go

// stripGo is the portable micro-kernel. Packed panels have at most 4 rows;
// columns go in blocks of 8 held in 4×8 local accumulators, then one at a
// time. The unrolled kernels are in kernel_go_gen.go (see gen_kernel_go.go).
func stripGo(s *strip) {
	s.flags &^= flagPrefetch
	switch s.r {
	case 4:
		strip4x8(s)
	case 3:
		strip3x8(s)
	case 2:
		strip2x8(s)
	default:
		strip1x8(s)
	}
}

// put stores the value v of row i, column j of the strip through the epilogue.
func (s *strip) put(i, j int, v float32) {
	o := i*s.ldc + j
	f := s.flags
	if f == 0 {
		s.c[o] = v
		return
	}
	if f&flagAcc != 0 {
		v += s.c[o]
	}
	if f&flagBias != 0 {
		v += s.bias[i]
	}
	if f&flagAdd != 0 {
		v += s.add[o]
	}
	s.c[o] = activate(v, int(f>>actShift)&actMask, s.alpha, s.lo, s.hi)
}

// store8 stores 8 consecutive values of row i from column j.
func (s *strip) store8(i, j int, v0, v1, v2, v3, v4, v5, v6, v7 float32) {
	o := i*s.ldc + j
	c := s.c[o : o+8 : o+8]
	if s.flags == 0 {
		c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7] = v0, v1, v2, v3, v4, v5, v6, v7
		return
	}
	v := [8]float32{v0, v1, v2, v3, v4, v5, v6, v7}
	f := s.flags
	if f&flagAcc != 0 {
		for t := range v {
			v[t] += c[t]
		}
	}
	if f&flagBias != 0 {
		bv := s.bias[i]
		for t := range v {
			v[t] += bv
		}
	}
	if f&flagAdd != 0 {
		ad := s.add[o : o+8 : o+8]
		for t := range v {
			v[t] += ad[t]
		}
	}
	act := int(f>>actShift) & actMask
	for t := range v {
		c[t] = activate(v[t], act, s.alpha, s.lo, s.hi)
	}
}

var goKernels = kernelSet{name: "go", id: kernelGo, mr: 4, nr: 8, vec: 8}
