// Package simd chooses the vector instruction set of veil's kernels.
//
// The kernels of the ONNX runtime (onnx/internal/...) and of the image
// resampling (internal/downscale) each come in up to three versions:
// portable Go (Generic), AVX2 with FMA, and AVX-512. Each package picks
// its version once, at start-up, from Current: the best level the CPU
// and operating system support, capped by the environment variable
// VEIL_SIMD. Setting VEIL_SIMD=avx2 on an AVX-512 machine runs exactly
// the code an AVX2-only machine runs, so every kernel path can be tested
// and measured on any CPU that has it.
package simd

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
)

// A Level is a set of vector instructions the kernels may use. Higher
// levels include the lower ones.
type Level int

const (
	// Generic is portable Go: no assembly.
	Generic Level = iota
	// AVX2 is AVX2 with FMA (x86-64-v3, Haswell and later, AMD Zen).
	AVX2
	// AVX512 is AVX2 plus AVX-512F and BMI2 (Skylake-X and later, AMD
	// Zen 4 and later).
	AVX512
)

// Env is the name of the environment variable that caps the level:
// "generic", "avx2" or "avx512". A level above what the CPU has is capped
// at what it has; an unknown value is reported on standard error once
// and ignored.
const Env = "VEIL_SIMD"

var names = [...]string{Generic: "generic", AVX2: "avx2", AVX512: "avx512"}

// String returns the level's name as VEIL_SIMD spells it.
func (l Level) String() string {
	if l >= 0 && int(l) < len(names) {
		return names[l]
	}
	return fmt.Sprintf("Level(%d)", int(l))
}

// Parse returns the level named s ("generic", "avx2" or "avx512", in any
// case; "go" and "purego" are taken for "generic").
func Parse(s string) (Level, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "generic", "go", "purego":
		return Generic, nil
	case "avx2":
		return AVX2, nil
	case "avx512", "avx-512":
		return AVX512, nil
	}
	return Generic, fmt.Errorf("simd: unknown level %q: want generic, avx2 or avx512", s)
}

// Detected returns the best level the CPU and the operating system
// support in this build: Generic on other architectures and in builds
// with the purego tag.
func Detected() Level { return detected }

// Current returns the level the kernels use: Detected, capped by
// VEIL_SIMD when it is set.
func Current() Level {
	current.once.Do(func() {
		current.level = capLevel(detected, os.Getenv(Env), func(err error) {
			fmt.Fprintf(os.Stderr, "veil: ignoring %s: %v\n", Env, err)
		})
	})
	return current.level
}

var current struct {
	once  sync.Once
	level Level
}

// capLevel returns the lower of have and the level named by env; an
// empty env leaves have, and an unknown one is reported to warn and
// leaves have.
func capLevel(have Level, env string, warn func(error)) Level {
	if env == "" {
		return have
	}
	l, err := Parse(env)
	if err != nil {
		warn(err)
		return have
	}
	return min(l, have)
}

// Levels returns every level this machine can run, best first, down to
// Generic, for tests and benchmarks that cover each kernel path.
func Levels() []Level {
	ls := make([]Level, 0, detected+1)
	for l := detected; l >= Generic; l-- {
		ls = append(ls, l)
	}
	return ls
}

// Describe returns a line naming the CPU, the best level it has, and the
// level in force, for benchmark reports: "AMD EPYC 9B14 (avx512), kernels
// avx2 (VEIL_SIMD=avx2)".
func Describe() string {
	s := fmt.Sprintf("%s (%v), kernels %v", cpuName(), Detected(), Current())
	if env := os.Getenv(Env); env != "" {
		s += fmt.Sprintf(" (%s=%s)", Env, env)
	}
	return s
}

// cpuName returns the processor's model name as /proc/cpuinfo gives it,
// or the architecture where that is not readable.
func cpuName() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			k, v, ok := strings.Cut(line, ":")
			if ok && strings.TrimSpace(k) == "model name" {
				return strings.TrimSpace(v)
			}
		}
	}
	return runtime.GOARCH
}
