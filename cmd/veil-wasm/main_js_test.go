//go:build js && wasm

package main

import (
	"os"
	"strings"
	"syscall/js"
	"testing"
)

// await waits for the promise p to settle.
func await(p js.Value) (js.Value, error) {
	type settled struct {
		v   js.Value
		err error
	}
	ch := make(chan settled, 1)
	then := js.FuncOf(func(_ js.Value, args []js.Value) any {
		ch <- settled{v: args[0]}
		return nil
	})
	catch := js.FuncOf(func(_ js.Value, args []js.Value) any {
		ch <- settled{err: js.Error{Value: args[0]}}
		return nil
	})
	defer then.Release()
	defer catch.Release()
	p.Call("then", then, catch)
	s := <-ch
	return s.v, s.err
}

// TestJSAPI calls globalThis.veil as a page would (under node, with
// go_js_wasm_exec).
func TestJSAPI(t *testing.T) {
	register()
	veil := js.Global().Get("veil")
	if v := veil.Get("version"); v.Type() != js.TypeString || v.String() == "" {
		t.Errorf("veil.version = %v", v)
	}
	if _, err := await(veil.Get("ready")); err != nil {
		t.Fatal("veil.ready:", err)
	}
	data, err := os.ReadFile("../../testdata/group.jpg")
	if err != nil {
		t.Fatal(err)
	}
	arr := js.Global().Get("Uint8Array").New(len(data))
	js.CopyBytesToJS(arr, data)

	var stages []string
	onProgress := js.FuncOf(func(_ js.Value, args []js.Value) any {
		stages = append(stages, args[0].String())
		return nil
	})
	defer onProgress.Release()
	opts := js.Global().Get("Object").New()
	opts.Set("classes", js.ValueOf([]any{"face"}))
	opts.Set("method", "pixelate")
	opts.Set("face-threshold", 0.5)
	opts.Set("onProgress", onProgress)
	r, err := await(veil.Call("anonymize", arr, opts))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(stages, ","); got != "decoding,detecting,encoding" {
		t.Errorf("progress %q", got)
	}
	if r.Get("format").String() != "jpeg" || !r.Get("image").InstanceOf(js.Global().Get("Uint8Array")) ||
		r.Get("image").Length() < 1000 || r.Get("width").Int() != 720 || r.Get("height").Int() != 478 {
		t.Errorf("result format %v image %v size %vx%v", r.Get("format"), r.Get("image"), r.Get("width"), r.Get("height"))
	}
	dets := js.Global().Get("JSON").Call("parse", r.Get("detections")).Get("detections")
	if n := r.Get("count").Int(); dets.Length() != n || n < 40 {
		t.Errorf("count %d, %d detections in the metadata", n, dets.Length())
	}

	// An ArrayBuffer works too; bad input and options reject with a message.
	if _, err := await(veil.Call("anonymize", arr.Get("buffer"), map[string]any{"method": "detect"})); err != nil {
		t.Errorf("ArrayBuffer: %v", err)
	}
	for _, c := range []struct {
		args []any
		want string
	}{
		{nil, "no image"},
		{[]any{"group.jpg"}, "must be a Uint8Array or ArrayBuffer"},
		{[]any{arr, map[string]any{"method": "smudge"}}, `option "method"`},
		{[]any{arr, map[string]any{"classes": []any{}}}, "no class given"},
		{[]any{arr, "blur"}, "options: want an object"},
		{[]any{js.Global().Get("Uint8Array").New(10)}, "veil: bad image"},
	} {
		_, err := await(veil.Call("anonymize", c.args...))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("anonymize(%v): error %v, want one containing %q", c.args, err, c.want)
		}
	}
}
