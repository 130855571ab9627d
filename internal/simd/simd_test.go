package simd

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want Level
		ok   bool
	}{
		{"generic", Generic, true},
		{"go", Generic, true},
		{"purego", Generic, true},
		{"AVX2", AVX2, true},
		{" avx2 ", AVX2, true},
		{"avx512", AVX512, true},
		{"avx-512", AVX512, true},
		{"sse4", Generic, false},
		{"", Generic, false},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("Parse(%q) = %v, %v; want %v, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
		if err == nil && tt.ok {
			if back, _ := Parse(got.String()); back != got {
				t.Errorf("Parse(%v.String()) = %v", got, back)
			}
		}
	}
}

func TestCapLevel(t *testing.T) {
	tests := []struct {
		have Level
		env  string
		want Level
		warn bool
	}{
		{AVX512, "", AVX512, false},
		{AVX512, "avx2", AVX2, false},
		{AVX512, "generic", Generic, false},
		{AVX2, "avx512", AVX2, false}, // never above what the CPU has
		{Generic, "avx2", Generic, false},
		{AVX2, "neon", AVX2, true},
	}
	for _, tt := range tests {
		var warned error
		got := capLevel(tt.have, tt.env, func(err error) { warned = err })
		if got != tt.want || (warned != nil) != tt.warn {
			t.Errorf("capLevel(%v, %q) = %v (warning %v), want %v (warning %v)", tt.have, tt.env, got, warned, tt.want, tt.warn)
		}
	}
}

func TestLevels(t *testing.T) {
	ls := Levels()
	if len(ls) == 0 || ls[0] != Detected() || ls[len(ls)-1] != Generic {
		t.Fatalf("Levels() = %v, want %v down to generic", ls, Detected())
	}
	for k := 1; k < len(ls); k++ {
		if ls[k] != ls[k-1]-1 {
			t.Errorf("Levels() = %v: not every level from best to generic", ls)
		}
	}
	if Current() > Detected() {
		t.Errorf("Current() = %v above Detected() = %v", Current(), Detected())
	}
	t.Logf("detected %v, current %v", Detected(), Current())
}

func TestLevelString(t *testing.T) {
	if s := Level(7).String(); s != "Level(7)" {
		t.Errorf("Level(7).String() = %q", s)
	}
}

func TestDescribe(t *testing.T) {
	d := Describe()
	if !strings.Contains(d, "kernels "+Current().String()) || !strings.Contains(d, "("+Detected().String()+")") {
		t.Errorf("Describe() = %q, want the detected and current levels", d)
	}
	t.Log(d)
}
