//go:build amd64 && !purego

package kern

// blendAVX2 sets o[i] = a[i] + w·(b[i]-a[i]) for i < 8k.
//
//go:noescape
func blendAVX2(o, a, b *float32, k int, w float32)

// dup2AVX2 sets o[2i] = o[2i+1] = r[i] for i < 8k.
//
//go:noescape
func dup2AVX2(o, r *float32, k int)

// blendRow sets o[i] = a[i] + w·(b[i]-a[i]); a and b hold at least
// len(o) elements.
func blendRow(o, a, b []float32, w float32) {
	n := len(o)
	a, b = a[:n], b[:n]
	if k := n / 8; useAVX2 && k > 0 {
		blendAVX2(&o[0], &a[0], &b[0], k, w)
		o, a, b = o[8*k:], a[8*k:], b[8*k:]
	}
	blendRowGo(o, a, b, w)
}

// dupRow sets o[2i] = o[2i+1] = r[i]; o holds at least 2·len(r)
// elements.
func dupRow(o, r []float32) {
	o = o[:2*len(r)]
	if k := len(r) / 8; useAVX2 && k > 0 {
		dup2AVX2(&o[0], &r[0], k)
		o, r = o[16*k:], r[8*k:]
	}
	dupRowGo(o, r)
}
