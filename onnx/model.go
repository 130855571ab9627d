// Package onnx is a pure-Go runtime for ONNX models: it decodes the
// protobuf itself, plans the graph once per input shape (shape inference,
// constant folding, Conv+BatchNormalization+activation fusion, buffer
// reuse) and runs it with kernels written for small vision CNNs.
//
// It knows nothing of images or classes: callers hand it tensors and get
// tensors back.
package onnx

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/veilkit/veil/onnx/internal/pb"
)

// Errors returned by Load and Run; they are wrapped with detail, so test
// for them with errors.Is.
var (
	// ErrInvalidModel reports a model that cannot be decoded or whose
	// graph is inconsistent.
	ErrInvalidModel = errors.New("onnx: invalid model")
	// ErrUnsupported reports an operator, attribute or attribute value the
	// runtime does not implement.
	ErrUnsupported = errors.New("onnx: unsupported")
	// ErrInput reports inputs that do not fit the model: a missing or
	// unknown name, a wrong element type or a shape the graph rejects.
	ErrInput = errors.New("onnx: bad input")
)

// maxModelElements bounds the elements of any one tensor the planner
// creates, so a hostile model cannot make it allocate without bound.
const maxModelElements = 1 << 28

// Options configure a Model.
type Options struct {
	// Threads is the number of goroutines a single Run may use for its
	// kernels. Zero means runtime.GOMAXPROCS(0).
	Threads int
	// Backend, when set, runs the model instead of the pure-Go runtime
	// (which still decodes and checks it at Load). Nil means pure Go.
	Backend Backend
}

// A Model is a loaded ONNX graph. It is safe for concurrent use: each Run
// takes a Session from an internal pool.
type Model struct {
	g       *graph
	threads int

	mu    sync.Mutex
	plans map[string]*plan // keyed by input shapes
	order []string         // plan keys, least recently built first

	// idle are the Sessions Run reuses, most recently used last (at most
	// maxIdle), each dropped after idleTTL unused. Not a sync.Pool: every
	// garbage collection may empty one, and a Session's arenas are the
	// activations of its inputs (112 MB for YuNet on a 1080p frame, 28 MB
	// for its 960×544 pass), which would then be allocated and faulted in
	// again while the old ones await collection.
	idleMu  sync.Mutex
	idle    []idleSession
	expiry  *time.Timer // armed while idle is not empty
	idleTTL time.Duration

	backend BackendModel // nil: the pure-Go runtime runs the graph
}

// Load decodes an ONNX model and prepares it for running. Every operator
// and attribute is checked here, so an unsupported model fails at load
// time with an error naming the operator.
func Load(data []byte, opts Options) (*Model, error) {
	mp, err := pb.DecodeModel(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidModel, err)
	}
	g, err := buildGraph(mp)
	if err != nil {
		return nil, err
	}
	threads := opts.Threads
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	m := &Model{g: g, threads: threads, plans: make(map[string]*plan), idleTTL: idleTTL}
	if opts.Backend != nil {
		if err := m.loadBackend(data, opts); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// InputNames returns the names of the inputs Run expects, in graph order.
// Initializers that the graph also lists as inputs are not included.
func (m *Model) InputNames() []string {
	names := make([]string, len(m.g.inputs))
	for k, in := range m.g.inputs {
		names[k] = in.name
	}
	return names
}

// InputShape returns the declared shape of the named input; a dimension
// that is symbolic or unknown is -1. ok is false for an unknown name.
func (m *Model) InputShape(name string) (shape []int, ok bool) {
	for _, in := range m.g.inputs {
		if in.name == name {
			return slices.Clone(in.shape), true
		}
	}
	return nil, false
}

// OutputNames returns the names of the graph's outputs, in graph order.
func (m *Model) OutputNames() []string { return slices.Clone(m.g.outputs) }

// Opset returns the model's ai.onnx operator set version.
func (m *Model) Opset() int64 { return m.g.opset }

// Run evaluates the graph on inputs (name → tensor) and returns every
// graph output in freshly allocated tensors. The input tensors are only
// read.
func (m *Model) Run(ctx context.Context, inputs map[string]*Tensor) (map[string]*Tensor, error) {
	if m.backend != nil {
		return m.runBackend(ctx, inputs)
	}
	s := m.takeSession()
	defer m.putSession(s)
	out, err := s.Run(ctx, inputs)
	if err != nil {
		return nil, err
	}
	res := make(map[string]*Tensor, len(out))
	for name, t := range out {
		c := &Tensor{shape: slices.Clone(t.shape), dtype: t.dtype}
		c.f = slices.Clone(t.f)
		c.i = slices.Clone(t.i)
		res[name] = c
	}
	return res, nil
}

// planFor returns the plan for the given input shapes, building and
// caching it on first use.
func (m *Model) planFor(inputs map[string]*Tensor) (*plan, error) {
	var key strings.Builder
	for _, in := range m.g.inputs {
		t, ok := inputs[in.name]
		if !ok || t == nil {
			return nil, fmt.Errorf("%w: missing input %q", ErrInput, in.name)
		}
		fmt.Fprintf(&key, "%v%v;", t.dtype, t.shape)
	}
	if len(inputs) != len(m.g.inputs) {
		for name := range inputs {
			if !slices.ContainsFunc(m.g.inputs, func(in graphInput) bool { return in.name == name }) {
				return nil, fmt.Errorf("%w: unknown input %q (model inputs: %v)", ErrInput, name, m.InputNames())
			}
		}
	}
	k := key.String()
	m.mu.Lock()
	defer m.mu.Unlock()
	if p := m.plans[k]; p != nil {
		return p, nil
	}
	p, err := newPlan(m.g, inputs, m.threads)
	if err != nil {
		return nil, err
	}
	m.plans[k] = p
	m.order = append(m.order, k)
	if len(m.order) > maxPlans {
		delete(m.plans, m.order[0])
		m.order = m.order[1:]
	}
	return p, nil
}

// A Session runs a Model with buffers it keeps between runs, so that a
// steady stream of same-shaped inputs allocates nothing. A Session is not
// safe for concurrent use; make one per goroutine.
type Session struct {
	m      *Model
	arenas []sessionArena // most recently used first, at most maxArenas
	last   *plan          // the plan of the previous Run, checked first
}

type sessionArena struct {
	p *plan
	a *arena
}

// maxPlans bounds the plans a Model caches and maxArenas the buffer sets
// a Session keeps, so that a stream of ever-new input shapes (a dynamic
// model fed images of every size) does not hold memory without bound.
const (
	maxPlans  = 16
	maxArenas = 4
)

// maxIdle bounds the Sessions a Model keeps for Run between runs: about
// as many as callers commonly run it at once (the CLI's and the server's
// workers, a video's frames in flight).
const maxIdle = 8

// idleTTL is how long a Session kept for Run may go unused before it is
// dropped, with its buffers: a server that has gone quiet gives their
// memory back.
const idleTTL = 30 * time.Second

type idleSession struct {
	s    *Session
	used time.Time
}

// takeSession returns the most recently used idle Session, or a new one.
func (m *Model) takeSession() *Session {
	m.idleMu.Lock()
	defer m.idleMu.Unlock()
	if n := len(m.idle); n > 0 {
		s := m.idle[n-1].s
		m.idle[n-1] = idleSession{}
		m.idle = m.idle[:n-1]
		return s
	}
	return m.NewSession()
}

// putSession keeps s for a later Run, unless maxIdle are kept already.
func (m *Model) putSession(s *Session) {
	m.idleMu.Lock()
	defer m.idleMu.Unlock()
	if len(m.idle) < maxIdle {
		m.idle = append(m.idle, idleSession{s: s, used: time.Now()})
	}
	if m.expiry == nil {
		m.expiry = time.AfterFunc(m.idleTTL, m.expire)
	}
}

// expire drops the Sessions unused for m.idleTTL and waits for the next.
func (m *Model) expire() {
	m.idleMu.Lock()
	defer m.idleMu.Unlock()
	now := time.Now()
	k := 0 // idle[:k] have expired: the list is by time of last use
	for k < len(m.idle) && now.Sub(m.idle[k].used) >= m.idleTTL {
		k++
	}
	n := copy(m.idle, m.idle[k:])
	clear(m.idle[n:])
	m.idle = m.idle[:n]
	m.expiry = nil
	if n > 0 {
		m.expiry = time.AfterFunc(m.idleTTL-now.Sub(m.idle[0].used), m.expire)
	}
}

// NewSession returns a Session for m.
func (m *Model) NewSession() *Session {
	return &Session{m: m}
}

// arena returns the session's buffers for p, making them if needed and
// dropping the least recently used set beyond maxArenas.
func (s *Session) arena(p *plan) *arena {
	for k, sa := range s.arenas {
		if sa.p == p {
			copy(s.arenas[1:k+1], s.arenas[:k])
			s.arenas[0] = sa
			return sa.a
		}
	}
	sa := sessionArena{p: p, a: p.newArena()}
	if len(s.arenas) < maxArenas {
		s.arenas = append(s.arenas, sessionArena{})
	}
	copy(s.arenas[1:], s.arenas)
	s.arenas[0] = sa
	return sa.a
}

// Run evaluates the graph like Model.Run, but the returned map and tensors
// belong to the Session and are overwritten by its next Run. (With a
// Backend, they are fresh on every Run.)
func (s *Session) Run(ctx context.Context, inputs map[string]*Tensor) (map[string]*Tensor, error) {
	if s.m.backend != nil {
		return s.m.runBackend(ctx, inputs)
	}
	p := s.last
	if p == nil || !p.fits(inputs) {
		var err error
		if p, err = s.m.planFor(inputs); err != nil {
			return nil, err
		}
		s.last = p
	}
	a := s.arena(p)
	return p.run(ctx, a, inputs)
}
