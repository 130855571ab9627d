//go:build !amd64 || purego

package kern

// blendRow sets o[i] = a[i] + w·(b[i]-a[i]); a and b hold at least
// len(o) elements.
func blendRow(o, a, b []float32, w float32) { blendRowGo(o, a, b, w) }

// dupRow sets o[2i] = o[2i+1] = r[i]; o holds at least 2·len(r)
// elements.
func dupRow(o, r []float32) { dupRowGo(o, r) }
