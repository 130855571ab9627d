package main

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/veilkit/veil/bench/internal/synth"
	"github.com/veilkit/veil/onnx"
)

// newVeil loads the model in veil's runtime with the given thread count,
// does two warm-up runs and returns a timer for model.Run.
func newVeil(data []byte, s synth.Spec, input []float32, threads int) (timer, error) {
	model, err := onnx.Load(data, onnx.Options{Threads: threads})
	if err != nil {
		return nil, err
	}
	if !slices.Contains(model.InputNames(), s.Input) {
		return nil, fmt.Errorf("no input %q (model inputs: %v)", s.Input, model.InputNames())
	}
	ctx := context.Background()
	inputs := map[string]*onnx.Tensor{s.Input: onnx.NewTensor(s.Shape, input)}
	for range 2 {
		if _, err := model.Run(ctx, inputs); err != nil {
			return nil, err
		}
	}
	return func(n int) ([]float64, error) {
		for w := time.Now(); ; {
			if _, err := model.Run(ctx, inputs); err != nil {
				return nil, err
			}
			if time.Since(w) >= batchWarm {
				break
			}
		}
		ms := make([]float64, 0, n)
		for range n {
			t0 := time.Now()
			if _, err := model.Run(ctx, inputs); err != nil {
				return nil, err
			}
			ms = append(ms, float64(time.Since(t0).Nanoseconds())/1e6)
		}
		return ms, nil
	}, nil
}
