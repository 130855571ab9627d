//go:build amd64 && !purego

package kern

//go:noescape
func max2s2AVX2(o *float32, n int, r0, r1 *float32)

//go:noescape
func max3s2AVX2(o *float32, n int, r0, r1, r2 *float32)

// maxRowAsm computes maxRow(o, rows, kw, s, d) with an assembly kernel
// and reports whether one fits.
func maxRowAsm(o []float32, rows [][]float32, kw, s, d int) bool {
	n := len(o)
	if !useAVX2 || n < 8 || s != 2 || d != 1 || len(rows) == 0 || len(rows) > kw {
		return false
	}
	m := 2*n + kw - 2 // row elements read
	// Rows missing from a window (in the vertical padding) repeat row 0.
	var r [3][]float32
	for i := range r {
		r[i] = rows[0]
		if i < len(rows) {
			r[i] = rows[i]
		}
		r[i] = r[i][:m]
	}
	switch kw {
	case 2:
		max2s2AVX2(&o[0], n, &r[0][0], &r[1][0])
	case 3:
		max3s2AVX2(&o[0], n, &r[0][0], &r[1][0], &r[2][0])
	default:
		return false
	}
	return true
}

//go:noescape
func avg2s2AVX2(o *float32, n int, r0, r1 *float32, scale float32)

//go:noescape
func avg3s2AVX2(o *float32, n int, r0, r1, r2 *float32, scale float32)

// avgRowAsm sets o[i] to scale times the sum of rows[r][s·i+k·d] over r
// and k < kw with an assembly kernel and reports whether one fits.
func avgRowAsm(o []float32, rows [][]float32, kw, s, d int, scale float32) bool {
	n := len(o)
	if !useAVX2 || n < 8 || s != 2 || d != 1 || len(rows) == 0 || len(rows) > kw || kw > 3 {
		return false
	}
	m := 2*n + kw - 2 // row elements read
	if len(rows) < kw && m > len(zeroRow) {
		return false
	}
	// Rows missing from a window (in the vertical padding) read zeros.
	var r [3][]float32
	for i := range r {
		r[i] = zeroRow[:m]
		if i < len(rows) {
			r[i] = rows[i][:m]
		}
	}
	switch kw {
	case 2:
		avg2s2AVX2(&o[0], n, &r[0][0], &r[1][0], scale)
	case 3:
		avg3s2AVX2(&o[0], n, &r[0][0], &r[1][0], &r[2][0], scale)
	default:
		return false
	}
	return true
}
