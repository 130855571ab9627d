package onnx

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/veilkit/veil/internal/simd"
)

// levelTests are the tests TestKernelLevels repeats at each kernel level:
// onnxruntime's outputs on synthetic and real inputs, the conformance
// suite, and the runs that load every operator path.
const levelTests = "^(TestGolden|TestGoldenStreet|TestConformance|TestDynamicShapes|TestFusion)$"

// TestKernelLevels runs levelTests again in a child process for each
// kernel level below the one in force that the CPU has (VEIL_SIMD=avx2,
// then generic, on an AVX-512 machine), so that every kernel path is
// checked against onnxruntime on any machine. The kernels pick their
// level once, at start-up, hence the child processes.
func TestKernelLevels(t *testing.T) {
	if testing.Short() {
		t.Skip("short mode")
	}
	if os.Getenv(simd.Env) != "" {
		t.Skipf("%s=%s: this process is one of the levels", simd.Env, os.Getenv(simd.Env))
	}
	t.Logf("CPU %v, kernels %v", simd.Detected(), simd.Current())
	for _, l := range simd.Levels() {
		if l >= simd.Current() {
			continue
		}
		t.Run(l.String(), func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run", levelTests, "-test.count=1", "-test.v")
			cmd.Env = append(os.Environ(), simd.Env+"="+l.String())
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%s=%v: %v\n%s", simd.Env, l, err, out)
			}
			for _, name := range []string{"TestGolden", "TestConformance"} {
				if !strings.Contains(string(out), "--- PASS: "+name+" ") {
					t.Fatalf("%s=%v: %s did not pass:\n%s", simd.Env, l, name, out)
				}
			}
		})
	}
}
