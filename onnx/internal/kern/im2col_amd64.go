//go:build amd64 && !purego

package kern

// gatherS2AVX512 sets o[i] = s[2i] for i < 16k+r, where m holds the
// lanes of the last block: bits 0-15 and 16-31 those of its two input
// loads, bits 32-47 its store lanes (the low r). idx is s2Idx.
//
//go:noescape
func gatherS2AVX512(o *float32, k int, s *float32, m uint64, idx *[32]int32)

// gatherS2AVX2 sets o[i] = s[2i] for i < 8k, reading s[:16k].
//
//go:noescape
func gatherS2AVX2(o *float32, k int, s *float32)

// gatherS2 sets dst[i] = src[2i]; src holds at least 2·len(dst)-1
// elements, and no element past those is read.
func gatherS2(dst, src []float32) {
	n := len(dst)
	switch {
	case n == 0:
	case useAVX512:
		src = src[:2*n-1]
		k := (n - 1) / 16 // unmasked blocks, whose 32 loads lie in src
		r := n - 16*k     // outputs of the masked last block, 1 to 16
		ld := uint64(1)<<(2*r-1) - 1
		st := uint64(1)<<r - 1
		gatherS2AVX512(&dst[0], k, &src[0], ld|st<<32, &s2Idx)
	case useAVX2 && n > 8:
		src = src[:2*n-1]
		k := (n - 1) / 8 // blocks whose 16 loads lie in src
		gatherS2AVX2(&dst[0], k, &src[0])
		gatherS2Go(dst[8*k:], src[16*k:])
	default:
		gatherS2Go(dst, src)
	}
}
