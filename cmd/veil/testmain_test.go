package main

import (
	"os"
	"testing"

	"github.com/veilkit/veil/internal/pgtest"
)

// TestMain runs veil itself, not the tests, when VEIL_TEST_MAIN is set:
// the tests run the command in a process of its own that way (see
// TestOutputModes and TestScaleOut). Otherwise it runs the tests and
// stops the PostgreSQL server they may have started.
func TestMain(m *testing.M) {
	if os.Getenv("VEIL_TEST_MAIN") == "1" {
		main()
		return
	}
	pgtest.Main(m)
}
