//go:build !linux

package kern

import "testing"

func testGuarded(t *testing.T) {}
