//go:build !linux

package kern

import "testing"

func testGuarded(t *testing.T) {}

// guarded returns a slice of n float32s; only Linux places it against an
// inaccessible page.
func guarded(t *testing.T, n int, atStart bool) []float32 { return make([]float32, n) }
