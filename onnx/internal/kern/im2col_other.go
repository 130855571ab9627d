//go:build !amd64 || purego

package kern

// gatherS2 sets dst[i] = src[2i]; src holds at least 2·len(dst)-1
// elements.
func gatherS2(dst, src []float32) { gatherS2Go(dst, src) }
