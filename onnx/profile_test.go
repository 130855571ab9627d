package onnx

import (
	"context"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/veilkit/veil/internal/par"
)

var (
	profileModel   = flag.String("profile", "", "model under ../models (or ../shared/models beside the repository) to time operator by operator (TestProfile)")
	profileThreads = flag.Int("profile-threads", 1, "threads for TestProfile")
	profileSteps   = flag.Bool("profile-steps", false, "TestProfile also lists every step in order")
	profileSize    = flag.String("profile-size", "", "HxW input size for a dynamic model in TestProfile (e.g. 1088x1920; default: the golden input's)")
)

// TestProfile prints where a model's run time goes, per operator type
// and per node, and how much of it lies outside parallel loops:
// go test -run TestProfile -profile face/yunet_n_640_640.onnx ./onnx/
// (with -cpu 1 -profile-threads 16, the serial time of the 16-thread
// code on one core, as bench/cmd/scaling measures it).
func TestProfile(t *testing.T) {
	if *profileModel == "" {
		t.Skip("set -profile MODEL to time a model operator by operator")
	}
	data, err := os.ReadFile(modelPath(t, *profileModel))
	if err != nil {
		t.Fatal(err)
	}
	g := loadGolden(t, "testdata/golden_synthetic_outputs.json")
	for k, v := range loadGolden(t, "testdata/golden_extra.json").Models {
		g.Models[k] = v
	}
	gm, ok := g.Models[*profileModel]
	if !ok {
		t.Fatalf("no golden input for %s", *profileModel)
	}
	m, err := Load(data, Options{Threads: *profileThreads})
	if err != nil {
		t.Fatal(err)
	}
	shape := gm.InputShape
	if *profileSize != "" {
		var h, w int
		if _, err := fmt.Sscanf(*profileSize, "%dx%d", &h, &w); err != nil || len(shape) != 4 {
			t.Fatalf("-profile-size %q: want HxW for a 4-D input", *profileSize)
		}
		shape = []int{shape[0], shape[1], h, w}
	}
	inputs := map[string]*Tensor{gm.Input: syntheticInput(shape, gm.Mean, gm.Std)}
	s := m.NewSession()
	if _, err := s.Run(context.Background(), inputs); err != nil {
		t.Fatal(err)
	}
	p := s.last
	a := s.arena(p)
	const runs = 30
	per := make([]time.Duration, len(p.steps))
	serial := make([]time.Duration, len(p.steps)) // outside parallel loops
	for r := 0; r < runs; r++ {
		for i, st := range p.steps {
			if al, ok := st.n.op.(aliaser); ok && al.alias() && p.root[st.out[0]] != st.out[0] {
				continue
			}
			a.rc.state = st.state
			var err error
			rec := par.Record(func() { err = st.n.op.run(&a.rc, a.stepIn[i], a.stepOut[i]) })
			if err != nil {
				t.Fatal(err)
			}
			per[i] += rec.Wall
			serial[i] += rec.Wall - rec.Parallel()
		}
	}
	byType := map[string]time.Duration{}
	serialByType := map[string]time.Duration{}
	var total, totalSerial time.Duration
	for i, st := range p.steps {
		key := st.n.opType
		if c, ok := st.n.op.(*convOp); ok {
			w := p.vals[st.in[1]].shape
			switch {
			case c.group > 1 && c.group == w[0]:
				key += " depthwise"
			case len(w) == 4 && w[2]*w[3] == 1:
				key += " 1x1"
			default:
				key += fmt.Sprintf(" %dx%d", w[2], w[3])
			}
		}
		byType[key] += per[i]
		serialByType[key] += serial[i]
		total += per[i]
		totalSerial += serial[i]
	}
	keys := make([]string, 0, len(byType))
	for k := range byType {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return byType[keys[i]] > byType[keys[j]] })
	var b strings.Builder
	fmt.Fprintf(&b, "%s %v: %.2f ms per run, %.1f%% outside parallel loops\n", *profileModel, shape, total.Seconds()*1000/runs, 100*float64(totalSerial)/float64(total))
	for _, k := range keys {
		fmt.Fprintf(&b, "  %-22s %7.3f ms %5.1f%%, serial %7.3f ms\n", k, byType[k].Seconds()*1000/runs, 100*float64(byType[k])/float64(total), serialByType[k].Seconds()*1000/runs)
	}
	idx := make([]int, len(p.steps))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(i, j int) bool { return per[idx[i]] > per[idx[j]] })
	for _, i := range idx[:min(15, len(idx))] {
		st := p.steps[i]
		fmt.Fprintf(&b, "  %7.3f ms %-26s in %v out %v\n", per[i].Seconds()*1000/runs, st.n.String(), p.vals[st.in[0]].shape, p.vals[st.out[0]].shape)
	}
	if *profileSteps {
		for i, st := range p.steps {
			fmt.Fprintf(&b, "  step %3d %8.4f ms (serial %8.4f) %s in %v out %v\n", i, per[i].Seconds()*1000/runs, serial[i].Seconds()*1000/runs, st.n.opType, p.vals[st.in[0]].shape, p.vals[st.out[0]].shape)
		}
	}
	t.Log("\n" + b.String())
}
