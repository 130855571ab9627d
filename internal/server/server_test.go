package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/veilkit/veil"
)

var (
	engineOnce sync.Once
	engine     *veil.Engine
	engineErr  error
)

func testEngine(t *testing.T) *veil.Engine {
	t.Helper()
	engineOnce.Do(func() { engine, engineErr = veil.New() })
	if engineErr != nil {
		t.Fatal(engineErr)
	}
	return engine
}

type testServer struct {
	*Server
	ts       *httptest.Server
	in, out  string
	endpoint string
}

// newTestServer starts a server on temporary folders; mod changes its
// configuration, hook (if not nil) is its beforeRun.
func newTestServer(t *testing.T, mod func(*Config), hook func(string)) *testServer {
	t.Helper()
	dir := t.TempDir()
	cfg := Config{
		Engine:         testEngine(t),
		APIEndpoint:    "http://localhost:7000/",
		InputDir:       filepath.Join(dir, "input"),
		OutputDir:      filepath.Join(dir, "output"),
		WebhookBackoff: 10 * time.Millisecond,
		Logf:           t.Logf,
	}
	if mod != nil {
		mod(&cfg)
	}
	return startTestServer(t, cfg, hook)
}

func startTestServer(t *testing.T, cfg Config, hook func(string)) *testServer {
	t.Helper()
	if cfg.KeepSync == 0 {
		// The tests look at earlier tasks: all are kept unless a test
		// says otherwise (TestKeepSync).
		cfg.KeepSync = -1
	}
	s, err := build(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s.beforeRun = hook
	s.start()
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		ts.Close()
		s.Close(t.Context())
	})
	return &testServer{s, ts, cfg.InputDir, cfg.OutputDir, cfg.APIEndpoint}
}

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// upload posts data as the fileobject named name.
func (s *testServer) upload(t *testing.T, query string, name, contentType string, data []byte, header http.Header) *http.Response {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="fileobject"; filename="%s"`, name))
	h.Set("Content-Type", contentType)
	pw, _ := mw.CreatePart(h)
	pw.Write(data)
	mw.Close()
	req, _ := http.NewRequest("POST", s.ts.URL+"/v1/file"+query, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func (s *testServer) do(t *testing.T, method, path string, header http.Header) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, s.ts.URL+path, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, b
}

func decodeJSON[T any](t *testing.T, resp *http.Response) T {
	t.Helper()
	defer resp.Body.Close()
	var v T
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%v in %s", err, b)
	}
	return v
}

// wantDetail checks a JSON error reply.
func wantDetail(t *testing.T, what string, code int, body []byte, wantCode int, substr string) {
	t.Helper()
	if code != wantCode {
		t.Errorf("%s: status %d, want %d (%s)", what, code, wantCode, body)
		return
	}
	var d detail
	if err := json.Unmarshal(body, &d); err != nil || d.Detail == "" {
		t.Errorf("%s: body %q is not {\"detail\": …}", what, body)
		return
	}
	if !strings.Contains(d.Detail, substr) {
		t.Errorf("%s: detail %q does not contain %q", what, d.Detail, substr)
	}
}

func dirLen(t *testing.T, dir string) int {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return len(des)
}

func TestStatus(t *testing.T) {
	s := newTestServer(t, nil, nil)
	resp, b := s.do(t, "GET", "/v1/status", nil)
	var st map[string]string
	if resp.StatusCode != 200 || json.Unmarshal(b, &st) != nil {
		t.Fatalf("status %d %s", resp.StatusCode, b)
	}
	if st["api_version"] != "v1" || st["status"] != "RUNNING" {
		t.Errorf("status = %v", st)
	}
	if _, err := time.Parse(tsFormat, st["ts"]); err != nil {
		t.Errorf("ts %q: %v", st["ts"], err)
	}
}

// TestRouteErrors checks that requests without a route get the API's
// JSON error body: 404 for an unknown path, 405 (with Allow) for a known
// path under another method.
func TestRouteErrors(t *testing.T) {
	s := newTestServer(t, nil, nil)
	for _, c := range []struct {
		method, path string
		code         int
		allow        string
	}{
		{"GET", "/v2/nothing", http.StatusNotFound, ""},
		{"POST", "/v1/status", http.StatusMethodNotAllowed, "GET, HEAD"},
		{"PUT", "/v1/task/list", http.StatusMethodNotAllowed, "DELETE, GET, HEAD"},
	} {
		resp, b := s.do(t, c.method, c.path, nil)
		var d map[string]string
		if resp.StatusCode != c.code || json.Unmarshal(b, &d) != nil || d["detail"] != http.StatusText(c.code) {
			t.Errorf("%s %s: %d %q, want %d with a JSON detail", c.method, c.path, resp.StatusCode, b, c.code)
		}
		if got := resp.Header.Get("Content-Type"); got != "application/json" {
			t.Errorf("%s %s: Content-Type %q", c.method, c.path, got)
		}
		if got := resp.Header.Get("Allow"); got != c.allow {
			t.Errorf("%s %s: Allow %q, want %q", c.method, c.path, got, c.allow)
		}
	}
}

func TestUploadSyncAndDownloads(t *testing.T) {
	s := newTestServer(t, nil, nil)
	resp := s.upload(t, "?method=pixelate&license-plate=True&face=true", "plate.jpg", "image/jpeg", readFile(t, "plate.jpg"), nil)
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("upload: %d %s", resp.StatusCode, b)
	}
	r := decodeJSON[map[string]string](t, resp)
	id := r["id"]
	if !validID(id) {
		t.Fatalf("id %q", id)
	}
	base := "http://localhost:7000/v1/file/" + id + "/"
	for k, v := range map[string]string{
		"content_type": "image/jpeg", "content-type": "image/jpeg", "status": "done",
		"anonymised_url": base + "anonymised", "anonymised-url": base + "anonymised",
		"metadata_url": base + "metadata", "binary_mask_url": base + "binary-mask",
		"instance_mask_url": base + "instance-mask", "instance-mask-url": base + "instance-mask",
	} {
		if r[k] != v {
			t.Errorf("%s = %q, want %q", k, r[k], v)
		}
	}

	// The anonymised image: JPEG by default (the upload's format), PNG on request.
	resp, b := s.do(t, "GET", "/v1/file/"+id+"/anonymised", nil)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/jpeg" {
		t.Fatalf("anonymised: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	img, err := jpeg.Decode(bytes.NewReader(b))
	if err != nil || img.Bounds().Dx() != 720 || img.Bounds().Dy() != 1160 {
		t.Fatalf("anonymised image: %v %v", err, img.Bounds())
	}
	resp, b50 := s.do(t, "GET", "/v1/file/"+id+"/anonymised?quality=50", nil)
	if resp.StatusCode != 200 || len(b50) >= len(b) {
		t.Errorf("quality=50: %d, %d bytes vs %d", resp.StatusCode, len(b50), len(b))
	}
	resp, b = s.do(t, "GET", "/v1/file/"+id+"/anonymised?download=PNG&compress-level=0", nil)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("download=PNG: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if _, err := png.Decode(bytes.NewReader(b)); err != nil {
		t.Error(err)
	}
	for _, q := range []string{"download=GIF", "quality=0", "quality=101", "quality=x", "compress-level=10"} {
		resp, b := s.do(t, "GET", "/v1/file/"+id+"/anonymised?"+q, nil)
		wantDetail(t, q, resp.StatusCode, b, 422, strings.Split(q, "=")[0])
	}

	// Masks, full size and scaled.
	for _, m := range []string{"binary-mask", "instance-mask"} {
		resp, b := s.do(t, "GET", "/v1/file/"+id+"/"+m, nil)
		full, err := png.Decode(bytes.NewReader(b))
		if resp.StatusCode != 200 || err != nil || full.Bounds() != image.Rect(0, 0, 720, 1160) {
			t.Fatalf("%s: %d %v", m, resp.StatusCode, err)
		}
		resp, b = s.do(t, "GET", "/v1/file/"+id+"/"+m+"?mask-scale=50", nil)
		half, err := png.Decode(bytes.NewReader(b))
		if resp.StatusCode != 200 || err != nil || half.Bounds() != image.Rect(0, 0, 360, 580) {
			t.Fatalf("%s?mask-scale=50: %d %v", m, resp.StatusCode, err)
		}
		resp, b = s.do(t, "GET", "/v1/file/"+id+"/"+m+"?mask-scale=101", nil)
		wantDetail(t, m+" mask-scale=101", resp.StatusCode, b, 422, "mask-scale")
	}
	// The binary mask has the plate white.
	_, b = s.do(t, "GET", "/v1/file/"+id+"/binary-mask", nil)
	bin, _ := png.Decode(bytes.NewReader(b))
	white := 0
	if g, ok := bin.(*image.Gray); ok {
		for _, p := range g.Pix {
			if p == 255 {
				white++
			}
		}
	}
	if white == 0 {
		t.Errorf("binary mask has no white pixel (%T)", bin)
	}

	// Metadata in the Celantur schema.
	resp, b = s.do(t, "GET", "/v1/file/"+id+"/metadata", nil)
	var m struct {
		ID         string `json:"id"`
		Detections []struct {
			TypeLabel    string `json:"type_label"`
			IsAnonymised bool   `json:"is_anonymised"`
		} `json:"detections"`
		Size     [2]int  `json:"size"`
		Filename string  `json:"filename"`
		Folder   *string `json:"folder"`
	}
	if resp.StatusCode != 200 || json.Unmarshal(b, &m) != nil {
		t.Fatalf("metadata: %d %s", resp.StatusCode, b)
	}
	if m.ID != id+".jpg" || m.Filename != id+".jpg" || m.Size != [2]int{1160, 720} || m.Folder == nil || *m.Folder != s.in {
		t.Errorf("metadata = %+v", m)
	}
	plates := 0
	for _, d := range m.Detections {
		if d.TypeLabel == "license-plate" && d.IsAnonymised {
			plates++
		}
	}
	if plates != 1 {
		t.Errorf("metadata detections = %+v, want one anonymised plate", m.Detections)
	}

	// The task.
	resp, b = s.do(t, "GET", "/v1/task/"+id, nil)
	var tr taskReply
	if resp.StatusCode != 200 || json.Unmarshal(b, &tr) != nil || tr.Result != "success" || tr.Status != StatusDone || tr.ID != id {
		t.Errorf("task: %d %s", resp.StatusCode, b)
	}
	resp, b = s.do(t, "GET", "/v1/task/list", nil)
	var list []Task
	if resp.StatusCode != 200 || json.Unmarshal(b, &list) != nil || len(list) != 1 || list[0].ID != id {
		t.Errorf("task list: %d %s", resp.StatusCode, b)
	}
}

func TestUploadErrors(t *testing.T) {
	s := newTestServer(t, func(c *Config) { c.MaxUploadBytes = 2 << 20 }, nil)
	jpg := readFile(t, "plate.jpg")
	for _, tc := range []struct{ query, substr string }{
		{"?method=smudge", "method"},
		{"?face=maybe", "face"},
		{"?face=false&license-plate=false", "no object class"},
		{"?face-threshold=-1", "face-threshold"},
		{"?face_threshold=0.9", "v1 spells it face-threshold"},
		{"?license_plate=true", "v1 spells it license-plate"},
		{"?face-treshold=0.9", "face-treshold: not a v1 parameter"},
		{"?vehicle-threshold=1.5", "vehicle-threshold"},
		{"?segmentation-threshold=x", "segmentation-threshold"},
		{"?format=tiles", "format"},
		{`?format={"number":[0,2]}`, "format"},
		{"?ignores=[{", "ignores"},
		{"?bbox=2", "bbox"},
		{"?webhook=ftp://x", "webhook"},
	} {
		resp := s.upload(t, tc.query, "plate.jpg", "image/jpeg", jpg, nil)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		wantDetail(t, tc.query, resp.StatusCode, b, 422, tc.substr)
	}
	resp := s.upload(t, "", "plate.jpg", "image/jpeg", jpg, http.Header{"X-Is-Async": {"perhaps"}})
	b, _ := io.ReadAll(resp.Body)
	wantDetail(t, "x-is-async", resp.StatusCode, b, 422, "x-is-async")

	// Not an image.
	resp = s.upload(t, "", "notes.jpg", "image/jpeg", []byte("hello, this is text, not a JPEG"), nil)
	b, _ = io.ReadAll(resp.Body)
	wantDetail(t, "text upload", resp.StatusCode, b, 422, "CONTENT_TYPE_ERROR")
	resp = s.upload(t, "", "empty.jpg", "image/jpeg", nil, nil)
	b, _ = io.ReadAll(resp.Body)
	wantDetail(t, "empty upload", resp.StatusCode, b, 422, "CONTENT_TYPE_ERROR")
	// No fileobject.
	req, _ := http.NewRequest("POST", s.ts.URL+"/v1/file", strings.NewReader("x"))
	req.Header.Set("Content-Type", "text/plain")
	r2, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(r2.Body)
	wantDetail(t, "no multipart", r2.StatusCode, b, 422, "fileobject")
	// Too large a body.
	big := append(append([]byte{}, jpg...), make([]byte, 3<<20)...)
	resp = s.upload(t, "", "big.jpg", "image/jpeg", big, nil)
	b, _ = io.ReadAll(resp.Body)
	wantDetail(t, "large upload", resp.StatusCode, b, 413, "too large")
	// A truncated JPEG: its header reads, its pixels do not.
	resp = s.upload(t, "", "cut.jpg", "image/jpeg", jpg[:2000], nil)
	b, _ = io.ReadAll(resp.Body)
	if resp.StatusCode != 422 {
		t.Errorf("truncated JPEG: %d %s", resp.StatusCode, b)
	}

	if n := dirLen(t, s.in); n != 0 {
		t.Errorf("%d files left in the input folder", n)
	}
	if n := len(storedRecords(t, s.out)); n != 0 {
		t.Errorf("%d task records left", n)
	}
}

func TestPixelLimit(t *testing.T) {
	s := newTestServer(t, func(c *Config) { c.MaxPixels = 720*1160 - 1 }, nil)
	resp := s.upload(t, "", "plate.jpg", "image/jpeg", readFile(t, "plate.jpg"), nil)
	b, _ := io.ReadAll(resp.Body)
	wantDetail(t, "pixel limit", resp.StatusCode, b, 422, "too large")
	if n := dirLen(t, s.in); n != 0 {
		t.Errorf("%d files left in the input folder", n)
	}
}

func TestUnknownAndWrongKind(t *testing.T) {
	s := newTestServer(t, nil, nil)
	unknown := "00000000-0000-4000-8000-000000000000"
	for _, p := range []string{"anonymised", "binary-mask", "instance-mask", "metadata"} {
		for _, id := range []string{unknown, "not-an-id"} {
			resp, b := s.do(t, "GET", "/v1/file/"+id+"/"+p, nil)
			wantDetail(t, p, resp.StatusCode, b, 422, "upload")
		}
	}
	for _, p := range []string{"video/anonymised", "video/metadata"} {
		resp, b := s.do(t, "GET", "/v1/file/"+unknown+"/"+p, nil)
		wantDetail(t, p, resp.StatusCode, b, 422, "Upload a video file at v1/file before using this endpoint.")
	}
	resp, b := s.do(t, "GET", "/v1/task/"+unknown, nil)
	wantDetail(t, "GET task", resp.StatusCode, b, 422, "No task")
	resp, b = s.do(t, "DELETE", "/v1/task/"+unknown, nil)
	wantDetail(t, "DELETE task", resp.StatusCode, b, 422, "No task")

	// Video endpoints of an image.
	r := decodeJSON[map[string]string](t, s.upload(t, "", "plate.png", "image/png", pngOf(t, "plate.jpg"), nil))
	id := r["id"]
	if r["content_type"] != "image/png" {
		t.Errorf("content_type %q", r["content_type"])
	}
	resp, b = s.do(t, "GET", "/v1/file/"+id+"/video/metadata", nil)
	wantDetail(t, "video metadata of an image", resp.StatusCode, b, 422, "You can receive anonymised video metadata only after video upload")
	resp, b = s.do(t, "GET", "/v1/file/"+id+"/video/anonymised", nil)
	wantDetail(t, "video of an image", resp.StatusCode, b, 422, "only after video upload")
	resp, _ = s.do(t, "GET", "/v1/file/"+id+"/anonymised", nil)
	if resp.Header.Get("Content-Type") != "image/png" {
		t.Errorf("PNG upload downloads as %s", resp.Header.Get("Content-Type"))
	}
}

func pngOf(t *testing.T, name string) []byte {
	img, err := jpeg.Decode(bytes.NewReader(readFile(t, name)))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	png.Encode(&b, img)
	return b.Bytes()
}

func TestDetectMethod(t *testing.T) {
	s := newTestServer(t, nil, nil)
	r := decodeJSON[map[string]string](t, s.upload(t, "?method=detect&license-plate=1", "plate.jpg", "image/jpeg", readFile(t, "plate.jpg"), nil))
	id := r["id"]
	resp, b := s.do(t, "GET", "/v1/file/"+id+"/anonymised", nil)
	wantDetail(t, "anonymised of detect", resp.StatusCode, b, 422, "detect")
	for _, p := range []string{"binary-mask", "instance-mask", "metadata"} {
		if resp, b := s.do(t, "GET", "/v1/file/"+id+"/"+p, nil); resp.StatusCode != 200 {
			t.Errorf("%s: %d %s", p, resp.StatusCode, b)
		}
	}
}

// TestSaveMask checks --save-mask: only the masks asked for are made, and
// downloading another is 422 naming the flag; a bad start-up option is an
// error.
func TestSaveMask(t *testing.T) {
	for _, c := range []struct {
		save             string
		binary, instance int
	}{{"binary", 200, 422}, {"instance", 422, 200}, {"none", 422, 422}} {
		s := newTestServer(t, func(cfg *Config) { cfg.SaveMask = c.save }, nil)
		r := decodeJSON[map[string]string](t, s.upload(t, "", "plate.jpg", "image/jpeg", readFile(t, "plate.jpg"), nil))
		for _, m := range []struct {
			name string
			want int
		}{{"binary-mask", c.binary}, {"instance-mask", c.instance}} {
			resp, b := s.do(t, "GET", "/v1/file/"+r["id"]+"/"+m.name+"?mask-scale=50", nil)
			if m.want == 200 {
				if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" {
					t.Errorf("--save-mask %s: %s: %d %s", c.save, m.name, resp.StatusCode, b)
				}
				continue
			}
			wantDetail(t, "--save-mask "+c.save+": "+m.name, resp.StatusCode, b, 422, "has no "+m.name+": the server makes none; start it with --save-mask")
		}
		if resp, b := s.do(t, "GET", "/v1/file/"+r["id"]+"/anonymised", nil); resp.StatusCode != 200 {
			t.Errorf("--save-mask %s: anonymised: %d %s", c.save, resp.StatusCode, b)
		}
	}
	dir := t.TempDir()
	for _, cfg := range []Config{
		{SaveMask: "some"}, {Format: `{"number":[0,1]}`}, {Classes: []veil.Class{9}},
	} {
		cfg.Engine, cfg.InputDir, cfg.OutputDir = testEngine(t), filepath.Join(dir, "in"), filepath.Join(dir, "out")
		if _, err := build(cfg); err == nil {
			t.Errorf("build(%+v) succeeded", cfg)
		}
	}
}

func TestAsyncWebhook(t *testing.T) {
	type hit struct {
		auth string
		body webhookBody
	}
	hits := make(chan hit, 10)
	var mu sync.Mutex
	fails := 2 // the first posts fail: the notification is retried
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if fails > 0 {
			fails--
			w.WriteHeader(500)
			return
		}
		var h hit
		h.auth = r.Header.Get("X-Api-Key")
		json.NewDecoder(r.Body).Decode(&h.body)
		hits <- h
	}))
	defer hook.Close()

	release := make(chan struct{})
	s := newTestServer(t, nil, func(string) { <-release })
	q := "?license-plate=true&webhook=" + hook.URL + "/notify&webhook-auth-header-name=X-Api-Key&webhook-auth-header-value=s3cret"
	resp := s.upload(t, q, "plate.jpg", "image/jpeg", readFile(t, "plate.jpg"), http.Header{"X-Is-Async": {"true"}})
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("async upload: %d %s", resp.StatusCode, b)
	}
	r := decodeJSON[map[string]string](t, resp)
	id := r["id"]
	if r["status"] != StatusQueued {
		t.Errorf("status %q, want queued", r["status"])
	}
	// Not done yet: the files are not there.
	_, b := s.do(t, "GET", "/v1/task/"+id, nil)
	var tr taskReply
	json.Unmarshal(b, &tr)
	if tr.Status != StatusQueued && tr.Status != StatusProcessing {
		t.Errorf("task before processing: %s", b)
	}
	resp2, b := s.do(t, "GET", "/v1/file/"+id+"/anonymised", nil)
	wantDetail(t, "anonymised before done", resp2.StatusCode, b, 422, "wait until it is done")
	// The secret is not stored.
	rec := storedRecords(t, s.out)[id]
	if bytes.Contains(rec, []byte("s3cret")) || bytes.Contains(b, []byte("s3cret")) {
		t.Errorf("the webhook secret is stored: %s", rec)
	}
	close(release)

	select {
	case h := <-hits:
		if h.auth != "s3cret" || h.body.Type != "notification.processing.status.changed" ||
			h.body.Event.ID != id || h.body.Event.Status != StatusDone {
			t.Errorf("webhook = %+v", h)
		}
		if _, err := time.Parse(tsFormat, h.body.TS); err != nil {
			t.Errorf("ts %q: %v", h.body.TS, err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no webhook")
	}
	_, b = s.do(t, "GET", "/v1/task/"+id, nil)
	json.Unmarshal(b, &tr)
	if tr.Status != StatusDone || !tr.Async {
		t.Errorf("task after webhook: %s", b)
	}
	if resp, _ := s.do(t, "GET", "/v1/file/"+id+"/anonymised", nil); resp.StatusCode != 200 {
		t.Errorf("anonymised after done: %d", resp.StatusCode)
	}
}

func TestQueueFull(t *testing.T) {
	release := make(chan struct{})
	started := make(chan string, 4)
	s := newTestServer(t, func(c *Config) { c.Workers, c.Queue, c.RetryAfter = 1, 1, 3*time.Second },
		func(id string) { started <- id; <-release })
	jpg := readFile(t, "plate.jpg")
	async := http.Header{"X-Is-Async": {"true"}}
	var ids []string
	r := decodeJSON[map[string]string](t, s.upload(t, "", "a.jpg", "image/jpeg", jpg, async))
	ids = append(ids, r["id"])
	<-started // the worker holds the first; the queue is empty
	r = decodeJSON[map[string]string](t, s.upload(t, "", "b.jpg", "image/jpeg", jpg, async))
	ids = append(ids, r["id"])
	resp := s.upload(t, "", "c.jpg", "image/jpeg", jpg, async)
	b, _ := io.ReadAll(resp.Body)
	wantDetail(t, "full queue", resp.StatusCode, b, 503, "queue is full")
	if ra := resp.Header.Get("Retry-After"); ra != "3" {
		t.Errorf("Retry-After %q, want 3", ra)
	}
	// A queued task cannot be deleted.
	resp2, b := s.do(t, "DELETE", "/v1/task/"+ids[1], nil)
	wantDetail(t, "delete queued", resp2.StatusCode, b, 422, "queued or processing")
	close(release)
	for _, id := range ids {
		waitDone(t, s, id)
	}
	if n := dirLen(t, s.in); n != 2 {
		t.Errorf("%d inputs, want 2 (the rejected upload is not kept)", n)
	}
}

func waitDone(t *testing.T, s *testServer, id string) Task {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		tk, ok := s.store.get(id)
		if ok && !tk.active() {
			if tk.Status != StatusDone {
				t.Fatalf("task %s: %s %s", id, tk.Status, tk.Error)
			}
			return tk
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("task %s not done", id)
	return Task{}
}

func TestRestartRecovery(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{
		Engine: testEngine(t), InputDir: filepath.Join(dir, "in"), OutputDir: filepath.Join(dir, "out"),
		Logf: t.Logf,
	}
	s1 := startTestServer(t, cfg, nil)
	r := decodeJSON[map[string]string](t, s1.upload(t, "?license-plate=true", "plate.jpg", "image/jpeg", readFile(t, "plate.jpg"), nil))
	done := r["id"]
	s1.ts.Close()
	s1.Close(t.Context())

	// A crash left a task processing (with a partial output) and one
	// queued; an earlier version, the queued one's record as a file, and a
	// temporary file of a record's write.
	crashed := map[string]string{newID(): StatusProcessing, newID(): StatusQueued}
	legacy := filepath.Join(cfg.OutputDir, "tasks")
	os.Mkdir(legacy, 0o755)
	for id, st := range crashed {
		tk := Task{ID: id, Status: st, Kind: "image", ContentType: "image/jpeg", Input: id + ".jpg", Created: time.Now().UTC()}
		if st == StatusQueued {
			b, _ := json.Marshal(tk)
			os.WriteFile(filepath.Join(legacy, id+".json"), b, 0o644)
		} else {
			putRecords(t, cfg.OutputDir, tk)
		}
		os.MkdirAll(filepath.Join(cfg.OutputDir, id), 0o755)
		os.WriteFile(filepath.Join(cfg.OutputDir, id, fileBinary), []byte("partial"), 0o644)
	}
	os.WriteFile(filepath.Join(legacy, ".x.json.tmp123"), []byte("{"), 0o644)

	s2 := startTestServer(t, cfg, nil)
	resp, b := s2.do(t, "GET", "/v1/task/"+done, nil)
	var tr taskReply
	if json.Unmarshal(b, &tr) != nil || tr.Status != StatusDone {
		t.Errorf("done task after restart: %d %s", resp.StatusCode, b)
	}
	if resp, _ := s2.do(t, "GET", "/v1/file/"+done+"/anonymised", nil); resp.StatusCode != 200 {
		t.Errorf("anonymised after restart: %d", resp.StatusCode)
	}
	for id := range crashed {
		_, b := s2.do(t, "GET", "/v1/task/"+id, nil)
		var tr taskReply
		if json.Unmarshal(b, &tr) != nil || tr.Status != StatusFailed || !strings.Contains(tr.Error, "interrupted") {
			t.Errorf("interrupted task after restart: %s", b)
		}
		if _, err := os.Stat(filepath.Join(cfg.OutputDir, id)); !os.IsNotExist(err) {
			t.Errorf("partial outputs of %s kept", id)
		}
		// And in the store.
		rec := storedRecords(t, cfg.OutputDir)[id]
		if !bytes.Contains(rec, []byte(`"failed"`)) {
			t.Errorf("record in the store: %s", rec)
		}
	}
	if _, err := os.Stat(legacy); !os.IsNotExist(err) {
		t.Errorf("%s left: %v", legacy, err)
	}
	_, b = s2.do(t, "GET", "/v1/task/list", nil)
	var list []Task
	json.Unmarshal(b, &list)
	if len(list) != 3 {
		t.Errorf("%d tasks after restart, want 3", len(list))
	}
}

func TestDeleteScopes(t *testing.T) {
	s := newTestServer(t, nil, nil)
	jpg := readFile(t, "plate.jpg")
	var ids []string
	for range 3 {
		r := decodeJSON[map[string]string](t, s.upload(t, "", "plate.jpg", "image/jpeg", jpg, nil))
		ids = append(ids, r["id"])
	}
	resp, b := s.do(t, "DELETE", "/v1/task/"+ids[0]+"?delete-scope=everything", nil)
	wantDetail(t, "bad scope", resp.StatusCode, b, 422, "delete-scope")

	// only-files: the record stays.
	resp, b = s.do(t, "DELETE", "/v1/task/"+ids[0]+"?delete-scope=only-files", nil)
	var rr resultReply
	if resp.StatusCode != 200 || json.Unmarshal(b, &rr) != nil || rr.Result != "success" {
		t.Fatalf("only-files: %d %s", resp.StatusCode, b)
	}
	_, b = s.do(t, "GET", "/v1/task/"+ids[0], nil)
	var tr taskReply
	if json.Unmarshal(b, &tr) != nil || !tr.FilesDeleted || tr.Status != StatusDone {
		t.Errorf("task after only-files: %s", b)
	}
	resp, b = s.do(t, "GET", "/v1/file/"+ids[0]+"/anonymised", nil)
	wantDetail(t, "anonymised after only-files", resp.StatusCode, b, 422, "deleted")
	if _, err := os.Stat(filepath.Join(s.out, ids[0])); !os.IsNotExist(err) {
		t.Error("outputs kept")
	}
	if _, err := os.Stat(filepath.Join(s.in, ids[0]+".jpg")); !os.IsNotExist(err) {
		t.Error("input kept")
	}

	// task-and-files (the default).
	resp, b = s.do(t, "DELETE", "/v1/task/"+ids[1], nil)
	if resp.StatusCode != 200 {
		t.Fatalf("delete: %d %s", resp.StatusCode, b)
	}
	resp, b = s.do(t, "GET", "/v1/task/"+ids[1], nil)
	wantDetail(t, "deleted task", resp.StatusCode, b, 422, "No task")
	if _, ok := storedRecords(t, s.out)[ids[1]]; ok {
		t.Error("record kept")
	}

	// All: needs confirm.
	for _, q := range []string{"", "?confirm=false", "?confirm=nah"} {
		resp, b := s.do(t, "DELETE", "/v1/task/list"+q, nil)
		wantDetail(t, "delete all "+q, resp.StatusCode, b, 422, "confirm")
	}
	resp, b = s.do(t, "DELETE", "/v1/task/list?confirm=True&delete-scope=only-files", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("delete all only-files: %d %s", resp.StatusCode, b)
	}
	if n := dirLen(t, s.in); n != 0 {
		t.Errorf("%d inputs left", n)
	}
	_, b = s.do(t, "GET", "/v1/task/list", nil)
	var list []Task
	json.Unmarshal(b, &list)
	if len(list) != 2 {
		t.Errorf("%d records after only-files, want 2", len(list))
	}
	resp, b = s.do(t, "DELETE", "/v1/task/list?confirm=true", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("delete all: %d %s", resp.StatusCode, b)
	}
	_, b = s.do(t, "GET", "/v1/task/list", nil)
	if strings.TrimSpace(string(b)) != "[]" {
		t.Errorf("task list after delete all: %s", b)
	}
	if n := len(storedRecords(t, s.out)); n != 0 {
		t.Errorf("%d records left", n)
	}
}

func TestAuth(t *testing.T) {
	s := newTestServer(t, func(c *Config) { c.Token = "t0ken" }, nil)
	if resp, _ := s.do(t, "GET", "/v1/status", nil); resp.StatusCode != 200 {
		t.Errorf("status without token: %d", resp.StatusCode)
	}
	for _, h := range []http.Header{nil, {"Authorization": {"Bearer wrong"}}, {"Authorization": {"t0ken"}}} {
		resp, b := s.do(t, "GET", "/v1/task/list", h)
		wantDetail(t, fmt.Sprint(h), resp.StatusCode, b, 401, "Not authenticated")
		if resp.Header.Get("WWW-Authenticate") == "" {
			t.Error("no WWW-Authenticate")
		}
	}
	resp := s.upload(t, "", "plate.jpg", "image/jpeg", readFile(t, "plate.jpg"), nil)
	if resp.StatusCode != 401 {
		t.Errorf("upload without token: %d", resp.StatusCode)
	}
	// The scheme name is case-insensitive; spaces around the token are not
	// part of it.
	for _, a := range []string{"Bearer t0ken", "bearer t0ken", "BEARER t0ken", "Bearer  t0ken "} {
		if resp, b := s.do(t, "GET", "/v1/task/list", http.Header{"Authorization": {a}}); resp.StatusCode != 200 {
			t.Errorf("Authorization %q: %d %s", a, resp.StatusCode, b)
		}
	}
	for _, a := range []string{"Basic t0ken", "Bearer", "Bearer t0ke", "Bearer t0ken2", "Bearert0ken"} {
		if resp, b := s.do(t, "GET", "/v1/task/list", http.Header{"Authorization": {a}}); resp.StatusCode != 401 {
			t.Errorf("Authorization %q: %d %s, want 401", a, resp.StatusCode, b)
		}
	}
	resp = s.upload(t, "", "plate.jpg", "image/jpeg", readFile(t, "plate.jpg"), http.Header{"Authorization": {"Bearer t0ken"}})
	if resp.StatusCode != 200 {
		t.Errorf("upload with token: %d", resp.StatusCode)
	}
}

func TestParseBool(t *testing.T) {
	for s, want := range map[string]bool{"True": true, "true": true, "1": true, "False": false, "false": false, "0": false} {
		if got, err := parseBool("x", s); err != nil || got != want {
			t.Errorf("parseBool(%q) = %v, %v", s, got, err)
		}
	}
	if _, err := parseBool("x", "maybe"); err == nil {
		t.Error("maybe parsed")
	}
}

func TestVideo(t *testing.T) {
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Skip("no ffmpeg")
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "clip.mp4")
	cmd := exec.Command("ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc=size=160x120:rate=10:duration=0.6",
		"-pix_fmt", "yuv420p", "-c:v", "libx264", src)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Skipf("ffmpeg cannot make a test video: %v %s", err, out)
	}
	data, _ := os.ReadFile(src)
	s := newTestServer(t, nil, nil)
	resp := s.upload(t, "?face=True", "clip.mp4", "video/mp4", data, nil)
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("video upload: %d %s", resp.StatusCode, b)
	}
	r := decodeJSON[map[string]string](t, resp)
	id := r["id"]
	if r["content_type"] != "video/mp4" || r["anonymized_video"] != "http://localhost:7000/v1/file/"+id+"/video/anonymised" ||
		r["metadata_url"] != "http://localhost:7000/v1/file/"+id+"/video/metadata" {
		t.Errorf("video reply = %v", r)
	}
	resp2, b := s.do(t, "GET", "/v1/file/"+id+"/video/anonymised", nil)
	if resp2.StatusCode != 200 || resp2.Header.Get("Content-Type") != "video/mp4" || len(b) < 100 {
		t.Errorf("video: %d %s %d bytes", resp2.StatusCode, resp2.Header.Get("Content-Type"), len(b))
	}
	resp2, b = s.do(t, "GET", "/v1/file/"+id+"/video/metadata?start_frame=1&end_frame=2", nil)
	var frames []struct {
		ID int `json:"id"`
	}
	if resp2.StatusCode != 200 || json.Unmarshal(b, &frames) != nil || len(frames) != 2 || frames[0].ID != 1 || frames[1].ID != 2 {
		t.Errorf("video metadata 1..2: %d %s", resp2.StatusCode, b)
	}
	_, b = s.do(t, "GET", "/v1/file/"+id+"/video/metadata", nil)
	if json.Unmarshal(b, &frames) != nil || len(frames) != 6 {
		t.Errorf("video metadata: %d frames, want 6", len(frames))
	}
	resp2, b = s.do(t, "GET", "/v1/file/"+id+"/video/metadata?start_frame=3&end_frame=1", nil)
	wantDetail(t, "end before start", resp2.StatusCode, b, 422, "before")
	resp2, b = s.do(t, "GET", "/v1/file/"+id+"/metadata", nil)
	wantDetail(t, "image metadata of a video", resp2.StatusCode, b, 422, "not supported for videos")
}

// TestKeepSync checks the retention of synchronous uploads: the last
// KeepSync are kept (1 by default, as the Celantur container holds one
// image that the next upload overwrites), the older ones are deleted,
// files and records; asynchronous tasks are kept.
func TestKeepSync(t *testing.T) {
	jpg := readFile(t, "plate.jpg")
	for _, c := range []struct {
		keep, want int // want: the synchronous tasks kept of 3
	}{{1, 1}, {2, 2}, {-1, 3}} {
		s := newTestServer(t, func(cfg *Config) { cfg.KeepSync = c.keep }, nil)
		async := decodeJSON[map[string]string](t, s.upload(t, "", "a.jpg", "image/jpeg", jpg, http.Header{"X-Is-Async": {"true"}}))
		waitDone(t, s, async["id"])
		var ids []string
		for range 3 {
			r := decodeJSON[map[string]string](t, s.upload(t, "", "s.jpg", "image/jpeg", jpg, nil))
			if r["status"] != StatusDone {
				t.Fatalf("keep %d: sync upload %v", c.keep, r)
			}
			ids = append(ids, r["id"])
		}
		for k, id := range ids {
			kept := k >= len(ids)-c.want
			resp, b := s.do(t, "GET", "/v1/file/"+id+"/anonymised", nil)
			if kept && resp.StatusCode != 200 {
				t.Errorf("keep %d: upload %d: %d %s, want it kept", c.keep, k+1, resp.StatusCode, b)
			}
			if !kept {
				wantDetail(t, fmt.Sprintf("keep %d: upload %d", c.keep, k+1), resp.StatusCode, b, 422, "No file with id")
				if _, err := os.Stat(s.outDir(id)); !os.IsNotExist(err) {
					t.Errorf("keep %d: upload %d: its outputs are still there (%v)", c.keep, k+1, err)
				}
			}
		}
		if got := dirLen(t, s.in); got != c.want+1 {
			t.Errorf("keep %d: %d inputs, want %d", c.keep, got, c.want+1)
		}
		if resp, b := s.do(t, "GET", "/v1/file/"+async["id"]+"/anonymised", nil); resp.StatusCode != 200 {
			t.Errorf("keep %d: the async task: %d %s, want it kept", c.keep, resp.StatusCode, b)
		}
	}
	// Synchronous uploads at once: each is answered done, none is deleted
	// under its request by another's end.
	s := newTestServer(t, func(cfg *Config) { cfg.KeepSync = 1 }, nil)
	var wg sync.WaitGroup
	for k := range 4 {
		wg.Go(func() {
			resp := s.upload(t, "", "s.jpg", "image/jpeg", jpg, nil)
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || !bytes.Contains(b, []byte(`"status": "done"`)) {
				t.Errorf("concurrent sync upload %d: %d %s", k, resp.StatusCode, b)
			}
		})
	}
	wg.Wait()
	if n := len(s.store.list()); n != 1 {
		t.Errorf("%d tasks after concurrent sync uploads, want 1", n)
	}
	def, err := build(Config{Engine: testEngine(t), InputDir: t.TempDir(), OutputDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { def.Close(context.Background()) })
	if def.cfg.KeepSync != 1 {
		t.Errorf("default KeepSync %d, want 1", def.cfg.KeepSync)
	}
}

// TestOutputModes checks that the files the server writes (the upload,
// the outputs, the kind of the task records) have the mode os.Create
// gives a file. The task record is in the database (tasks.db), SQLite's
// file.
func TestOutputModes(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no umask on Windows")
	}
	s := newTestServer(t, nil, nil)
	r := decodeJSON[map[string]string](t, s.upload(t, "", "plate.jpg", "image/jpeg", readFile(t, "plate.jpg"), nil))
	f, err := os.Create(filepath.Join(t.TempDir(), "created"))
	if err != nil {
		t.Fatal(err)
	}
	fi, err := f.Stat()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	want := fi.Mode().Perm()
	n := 0
	for _, dir := range []string{s.in, s.out} {
		filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || strings.HasPrefix(d.Name(), "tasks.db") {
				return err
			}
			n++
			if fi, err := d.Info(); err != nil || fi.Mode().Perm() != want {
				t.Errorf("%s: mode %v (%v), want %v", path, fi.Mode().Perm(), err, want)
			}
			return nil
		})
	}
	if n != 6 { // the upload, 4 outputs, .task-records
		t.Errorf("%d files for task %s, want 6", n, r["id"])
	}
}
