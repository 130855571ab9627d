package cloudapi

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/veilkit/veil"
	"github.com/veilkit/veil/internal/blobstore"
	"github.com/veilkit/veil/internal/pgtest"
	"github.com/veilkit/veil/internal/s3test"
	"github.com/veilkit/veil/internal/taskstore"
	"golang.org/x/crypto/bcrypt"
	xdraw "golang.org/x/image/draw"
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

type testAPI struct {
	*API
	ts *httptest.Server
}

// newTestAPI serves an API on SQLite and a local folder in t.TempDir.
func newTestAPI(t *testing.T, workers int, mod func(*Config)) *testAPI {
	t.Helper()
	dir := t.TempDir()
	return newTestAPIOn(t, "sqlite:"+filepath.Join(dir, "tasks.db"), filepath.Join(dir, "blobs"), workers, mod)
}

// newTestAPIOn serves an API on the task store dsn and the bucket.
func newTestAPIOn(t *testing.T, dsn, bucket string, workers int, mod func(*Config)) *testAPI {
	t.Helper()
	ctx := context.Background()
	tasks, err := taskstore.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tasks.Close() })
	var h http.Handler
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(ts.Close)
	var api *API
	blobs, err := blobstore.Open(ctx, bucket, blobstore.Options{BaseURL: ts.URL + "/",
		OnPut: func(key string) { api.Uploaded(key) }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { blobs.Close() })
	cfg := Config{Tasks: tasks, Blobs: blobs, Workers: workers, Logf: t.Logf,
		WatchInterval: 50 * time.Millisecond, PollInterval: 20 * time.Millisecond, WebhookBackoff: 10 * time.Millisecond}
	if workers > 0 {
		cfg.Engine = testEngine(t)
	}
	if mod != nil {
		mod(&cfg)
	}
	api, err = New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h = api.Handler()
	api.Start(ctx)
	t.Cleanup(func() { api.Close() })
	return &testAPI{api, ts}
}

func (a *testAPI) do(t *testing.T, method, path, body string) (int, string) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, a.ts.URL+path, r)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestCreateErrors(t *testing.T) {
	a := newTestAPI(t, 0, nil)
	for _, c := range []struct{ body, want string }{
		{"", "Could not create task. Please add a JSON body."},
		{`{"anonymization_method":"blur","face":true,"nose":true}`, "Could not create task. nose parameter caused an error. This parameter does not exist."},
		{`{"anonymization_method":"smudge","face":true}`, "Could not create task. anonymization_method parameter received an unexpected value."},
		{`{"anonymization_method":"blur","face":"yes"}`, "Could not create task. face parameter received an unexpected value."},
		{`{"anonymization_method":"blur","face":true,"face_threshold":1.5}`, `Could not create task. face_threshold parameter value caused an error. Want a number in [0, 1], got "1.5".`},
		{`{"face":true}`, "Could not create task. Request body is not correct. The anonymization_method parameter is required: blur, pixelate or blacken."},
		{`{"anonymization_method":"blur"}`, "Could not create task. Request body is not correct. At least one of face, license_plate, person or vehicle must be true."},
	} {
		code, body := a.do(t, "POST", "/v2/task", c.body)
		var e errorBody
		json.Unmarshal([]byte(body), &e)
		if code != 400 || e.StatusCode != 400 || e.Error != c.want {
			t.Errorf("%s: %d %s, want 400 %q", c.body, code, body, c.want)
		}
	}
}

func TestCreateDefaults(t *testing.T) {
	a := newTestAPI(t, 0, nil)
	code, body := a.do(t, "POST", "/v2/task", `{"anonymization_method":"blur","license-plate":true,"mask-scale":50,"format":{"number":[2,2]}}`)
	if code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	var m map[string]any
	json.Unmarshal([]byte(body), &m)
	for k, want := range map[string]any{"license_plate": true, "mask_scale": 50.0, "quality": 90.0, "kernel_size_person": 95.0,
		"start_on": "upload", "task_status": "new", "upload_url_expiration_duration": 3600.0, "webhook": nil} {
		if m[k] != want {
			t.Errorf("%s = %v, want %v", k, m[k], want)
		}
	}
	if f, ok := m["format"].(map[string]any); !ok || f["number"] == nil {
		t.Errorf("format = %v", m["format"])
	}
	if u, _ := m["upload_url"].(string); !strings.HasPrefix(u, a.ts.URL+"/blob/tasks/") {
		t.Errorf("upload_url = %q", u)
	}
}

func put(t *testing.T, url, contentType string, data []byte) {
	t.Helper()
	req, _ := http.NewRequest("PUT", url, bytes.NewReader(data))
	req.Header.Set("Content-Type", contentType)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("PUT: %s", resp.Status)
	}
}

// create creates a task and returns its id and upload URL.
func (a *testAPI) create(t *testing.T, body string) (int64, string) {
	t.Helper()
	code, b := a.do(t, "POST", "/v2/task", body)
	if code != 200 {
		t.Fatalf("create: %d %s", code, b)
	}
	var r struct {
		TaskID    int64  `json:"task_id"`
		UploadURL string `json:"upload_url"`
	}
	json.Unmarshal([]byte(b), &r)
	return r.TaskID, r.UploadURL
}

// wait waits for the task to be done or failed and returns its JSON.
func (a *testAPI) wait(t *testing.T, id int64) map[string]any {
	t.Helper()
	for end := time.Now().Add(20 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		_, b := a.do(t, "GET", "/v2/task/"+itoa(id), "")
		var m map[string]any
		json.Unmarshal([]byte(b), &m)
		if s := m["task_status"]; s == "done" || s == "failed" {
			return m
		}
	}
	t.Fatalf("task %d not done", id)
	return nil
}

func itoa(id int64) string { return json.Number(jsonInt(id)).String() }

func jsonInt(id int64) string { b, _ := json.Marshal(id); return string(b) }

func TestEndToEnd(t *testing.T) {
	testEndToEnd(t, newTestAPI(t, 1, nil))
}

// TestEndToEndPostgresS3 is TestEndToEnd on PostgreSQL and S3: the upload
// goes straight into the bucket, where the watcher finds it.
func TestEndToEndPostgresS3(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	testEndToEnd(t, newTestAPIOn(t, pgtest.Start(t), s3test.Start(t), 1, nil))
}

func testEndToEnd(t *testing.T, a *testAPI) {
	data, err := os.ReadFile("../../testdata/group.jpg")
	if err != nil {
		t.Fatal(err)
	}
	id, up := a.create(t, `{"anonymization_method":"blur","face":true}`)
	put(t, up, "image/jpeg", data)
	m := a.wait(t, id)
	if m["task_status"] != "done" {
		t.Fatalf("task = %v", m)
	}
	resp, err := http.Get(m["anonymized_url"].(string))
	if err != nil {
		t.Fatal(err)
	}
	out, err := veil.Decode(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	in, _ := veil.Decode(bytes.NewReader(data))
	code, b := a.do(t, "GET", "/v2/task/"+itoa(id)+"/metadata", "")
	var md struct {
		Detections []struct {
			BBox      [4]int `json:"bbox"`
			TypeLabel string `json:"type_label"`
		} `json:"detections"`
	}
	if err := json.Unmarshal([]byte(b), &md); code != 200 || err != nil || len(md.Detections) < 20 {
		t.Fatalf("metadata: %d %.200s", code, b)
	}
	for _, d := range md.Detections {
		r := image.Rect(d.BBox[0], d.BBox[1], d.BBox[2], d.BBox[3])
		if changed(in, out, r) < 0.3 {
			t.Errorf("%s %v: %.0f%% of its pixels changed", d.TypeLabel, r, 100*changed(in, out, r))
		}
	}
	// Deleting: the URLs go, a second delete is refused.
	if code, b := a.do(t, "DELETE", "/v2/task/"+itoa(id)+"/files", ""); code != 200 || !strings.Contains(b, `"files_deleted":true`) {
		t.Errorf("delete: %d %s", code, b)
	}
	if code, b := a.do(t, "DELETE", "/v2/task/"+itoa(id)+"/files", ""); code != 400 || !strings.Contains(b, "already deleted") {
		t.Errorf("second delete: %d %s", code, b)
	}
	if _, b := a.do(t, "GET", "/v2/task/"+itoa(id), ""); strings.Contains(b, "anonymized_url") {
		t.Errorf("deleted task: %s", b)
	}
}

// changed returns the fraction of the pixels of r that differ between a
// and b by more than a little.
func changed(a, b image.Image, r image.Rectangle) float64 {
	r = r.Intersect(a.Bounds())
	n, diff := 0, 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			r1, g1, b1, _ := a.At(x, y).RGBA()
			r2, g2, b2, _ := b.At(x, y).RGBA()
			d := absDiff(r1, r2) + absDiff(g1, g2) + absDiff(b1, b2)
			if d > 3*8*257 {
				diff++
			}
			n++
		}
	}
	if n == 0 {
		return 1
	}
	return float64(diff) / float64(n)
}

func absDiff(a, b uint32) uint32 {
	if a > b {
		return a - b
	}
	return b - a
}

func TestFailures(t *testing.T) {
	a := newTestAPI(t, 1, nil)
	for _, c := range []struct {
		contentType string
		data        []byte
		want        string
	}{
		{"text/plain", []byte("hello"), "CONTENT_TYPE_ERROR"},
		{"image/jpeg", []byte("hello, not a jpeg"), "CONTENT_TYPE_ERROR"},
		{"image/jpeg", append([]byte{0xff, 0xd8, 0xff, 0xe0}, bytes.Repeat([]byte{7}, 600)...), "IMAGE_DEFECT"},
	} {
		id, up := a.create(t, `{"anonymization_method":"pixelate","face":true}`)
		put(t, up, c.contentType, c.data)
		if m := a.wait(t, id); m["failure_cause"] != c.want {
			t.Errorf("%s %.10q: %v, want %s", c.contentType, c.data, m["failure_cause"], c.want)
		}
	}
}

func TestNotFound(t *testing.T) {
	a := newTestAPI(t, 0, nil)
	for _, c := range []struct{ method, path, want string }{
		{"GET", "/v2/task/99", "Task ID not found. There is no task with task ID 99."},
		{"GET", "/v2/task/abc/status", "Wrong format for Task ID. abc is not an integer."},
		{"GET", "/v2/task/", "Getting task results failed. Please enter a task ID."},
		{"DELETE", "/v2/task/7/files", "Task ID not found. There is no task with task ID 7."},
		{"GET", "/v2/task/list", "No create_time_* parameters have been specified."},
		{"GET", "/v2/task/list?create_time_after=2024-01-02&create_time_before=2024-01-02", "Please check your create_time_* parameters. create_time_after can not be later than/equal to create_time_before."},
		{"GET", "/v2/task/list?create_time_after=2024-1-2", "Please enter a properly formatted time for the create_time_after value. Correct format:  YYYY-MM-DD"},
	} {
		code, body := a.do(t, c.method, c.path, "")
		var e errorBody
		json.Unmarshal([]byte(body), &e)
		if code != 400 || e.Error != c.want {
			t.Errorf("%s %s: %d %s, want %q", c.method, c.path, code, body, c.want)
		}
	}
}

func TestListPages(t *testing.T) {
	a := newTestAPI(t, 0, nil)
	var ids []int64
	for range 12 {
		id, _ := a.create(t, `{"anonymization_method":"blur","face":true}`)
		ids = append(ids, id)
	}
	q := "/v2/task/list?create_time_after=2000-01-01&limit=3"
	_, b := a.do(t, "GET", q, "")
	var l listBody
	json.Unmarshal([]byte(b), &l)
	if l.Limit != 10 || l.Count != 10 || l.NextPageKey == nil || *l.NextPageKey != ids[9] {
		t.Fatalf("first page: %s", b)
	}
	_, b = a.do(t, "GET", q+"&next_page_key="+itoa(*l.NextPageKey), "")
	l = listBody{}
	json.Unmarshal([]byte(b), &l)
	if l.Count != 2 || l.NextPageKey != nil || l.Items[0].TaskID != ids[10] {
		t.Fatalf("second page: %s", b)
	}
}

func TestStartRequestAndDeletedUpload(t *testing.T) {
	a := newTestAPI(t, 1, nil)
	data, _ := os.ReadFile("../../testdata/street.jpg")
	id, up := a.create(t, `{"anonymization_method":"blacken","vehicle":true,"start_on":"start_request"}`)
	if code, b := a.do(t, "POST", "/v2/task/"+itoa(id)+"/start", ""); code != 400 || !strings.Contains(b, "No file has been uploaded") {
		t.Errorf("start before upload: %d %s", code, b)
	}
	put(t, up, "image/jpeg", data)
	time.Sleep(150 * time.Millisecond)
	if _, b := a.do(t, "GET", "/v2/task/"+itoa(id)+"/status", ""); !strings.Contains(b, `"task_status":"new"`) {
		t.Errorf("started without a start request: %s", b)
	}
	if code, b := a.do(t, "POST", "/v2/task/"+itoa(id)+"/start", ""); code != 200 {
		t.Errorf("start: %d %s", code, b)
	}
	if m := a.wait(t, id); m["task_status"] != "done" {
		t.Errorf("task = %v", m)
	}

	// An upload to a deleted task is discarded.
	id, up = a.create(t, `{"anonymization_method":"blur","face":true}`)
	if code, b := a.do(t, "DELETE", "/v2/task/"+itoa(id)+"/files", ""); code != 200 {
		t.Fatalf("delete: %d %s", code, b)
	}
	put(t, up, "image/jpeg", data)
	time.Sleep(200 * time.Millisecond)
	if _, err := a.cfg.Blobs.Attributes(context.Background(), keyOriginal(id)); err == nil {
		t.Errorf("the upload to a deleted task is kept")
	}
	if _, b := a.do(t, "GET", "/v2/task/"+itoa(id), ""); !strings.Contains(b, `"task_status":"new"`) || strings.Contains(b, "original_url") {
		t.Errorf("deleted task: %s", b)
	}
}

func TestUsers(t *testing.T) {
	hash := func(pw string) []byte {
		h, _ := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
		return h
	}
	a := newTestAPI(t, 0, func(c *Config) { c.Users = map[string][]byte{"ann": hash("a1"), "bob": hash("b1")} })
	signin := func(user, pw string) string {
		code, b := a.do(t, "POST", "/v2/signin", `{"username":"`+user+`","password":"`+pw+`"}`)
		var r signinBody
		json.Unmarshal([]byte(b), &r)
		if code != 200 || r.TokenType != "Bearer" || r.ExpiresIn != 3600 {
			t.Fatalf("signin %s: %d %s", user, code, b)
		}
		return r.AccessToken
	}
	if code, b := a.do(t, "POST", "/v2/signin", `{"username":"ann","password":"nope"}`); code != 400 || !strings.Contains(b, `"code":"NotAuthorizedException"`) {
		t.Errorf("bad password: %d %s", code, b)
	}
	if code, _ := a.do(t, "GET", "/v2/task/1", ""); code != 401 {
		t.Errorf("no token: %d", code)
	}
	call := func(tok, method, path, body string) (int, string) {
		req, _ := http.NewRequest(method, a.ts.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	ann, bob := signin("ann", "a1"), signin("bob", "b1")
	code, b := call(ann, "POST", "/v2/task", `{"anonymization_method":"blur","face":true}`)
	if code != 200 || !strings.Contains(b, `"customer_id":"ann"`) {
		t.Fatalf("create: %d %s", code, b)
	}
	if code, b := call(bob, "GET", "/v2/task/1", ""); code != 400 || !strings.Contains(b, "Task ID not found") {
		t.Errorf("bob sees ann's task: %d %s", code, b)
	}
	if code, _ := call(ann, "GET", "/v2/task/1", ""); code != 200 {
		t.Errorf("ann's task: %d", code)
	}
	if _, b := call(bob, "GET", "/v2/task/list?create_time_after=2000-01-01", ""); !strings.Contains(b, `"count":0`) {
		t.Errorf("bob's list: %s", b)
	}
}

func TestLeaseLost(t *testing.T) {
	a := newTestAPI(t, 0, func(c *Config) { c.Engine = testEngine(t); c.Lease = 100 * time.Millisecond })
	data, _ := os.ReadFile("../../testdata/street.jpg")
	id, up := a.create(t, `{"anonymization_method":"blur","face":true}`)
	put(t, up, "image/jpeg", data)
	time.Sleep(100 * time.Millisecond) // queued
	ctx := context.Background()
	w := &Worker{c: a.core, name: "slow"}
	tk, err := a.cfg.Tasks.Claim(ctx, "slow", time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	w.beforeFinish = func(taskstore.Task) {
		time.Sleep(10 * time.Millisecond)
		if _, err := a.cfg.Tasks.Claim(ctx, "fast", time.Minute); err != nil {
			t.Errorf("take over: %v", err)
		}
	}
	// Renewal is every Lease/3 of the core's config; claim with a lease
	// that ran out before the first renewal.
	w.c = newCore(Config{Tasks: a.cfg.Tasks, Blobs: a.cfg.Blobs, Engine: testEngine(t), Logf: t.Logf, Lease: time.Hour}.withDefaults())
	w.handle(ctx, tk)
	got, _ := a.cfg.Tasks.Get(ctx, id)
	if got.Status != taskstore.StatusProcessing || got.Worker != "fast" || len(got.Result) != 0 {
		t.Errorf("task = %s by %s, result %s", got.Status, got.Worker, got.Result)
	}
}

func TestExpiredURL(t *testing.T) {
	a := newTestAPI(t, 0, func(c *Config) { c.UploadExpiry = time.Second })
	_, up := a.create(t, `{"anonymization_method":"blur","face":true}`)
	time.Sleep(2100 * time.Millisecond)
	req, _ := http.NewRequest("PUT", up, strings.NewReader("x"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("PUT to an expired URL: %s", resp.Status)
	}
}

func TestWebhookAndEmptyMetadata(t *testing.T) {
	got := make(chan map[string]any, 1)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m map[string]any
		json.NewDecoder(r.Body).Decode(&m)
		got <- m
	}))
	defer hook.Close()
	a := newTestAPI(t, 1, nil)
	// A plain grey image: nothing found, metadata 204.
	img := image.NewGray(image.Rect(0, 0, 64, 48))
	var b bytes.Buffer
	veil.Encode(&b, img, veil.EncodeOptions{Format: "png"})
	id, up := a.create(t, `{"anonymization_method":"blur","person":true,"webhook":"`+hook.URL+`"}`)
	if code, body := a.do(t, "GET", "/v2/task/"+itoa(id)+"/metadata", ""); code != 204 || body != "" {
		t.Errorf("metadata of a new task: %d %q", code, body)
	}
	put(t, up, "image/png", b.Bytes())
	if m := a.wait(t, id); m["task_status"] != "done" || !strings.Contains(m["anonymized_url"].(string), "anonymized.png") {
		t.Fatalf("task = %v", m)
	}
	select {
	case m := <-got:
		if m["task_id"] != float64(id) || m["task_status"] != "done" {
			t.Errorf("webhook body = %v", m)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no webhook")
	}
	if code, body := a.do(t, "GET", "/v2/task/"+itoa(id)+"/metadata", ""); code != 204 || body != "" {
		t.Errorf("metadata without detections: %d %q", code, body)
	}
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if _, body := a.do(t, "GET", "/v2/task/"+itoa(id)+"/status", ""); strings.Contains(body, `"webhook_status":"sent"`) {
			return
		}
	}
	t.Error("webhook_status never sent")
}

func TestToken(t *testing.T) {
	a := newTestAPI(t, 0, func(c *Config) { c.Token = "s3cret" })
	for _, c := range []struct {
		header string
		want   int
	}{{"", 401}, {"Bearer nope", 401}, {"Bearer s3cret", 400}, {"s3cret", 400}} {
		req, _ := http.NewRequest("GET", a.ts.URL+"/v2/task/5", nil)
		if c.header != "" {
			req.Header.Set("Authorization", c.header)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("Authorization %q: %s, want %d", c.header, resp.Status, c.want)
		}
	}
}

// TestLeaseRenewed checks that a worker keeps its task through processing
// that lasts several leases: renewed every third of a lease, it is never
// taken by another worker, which tries all along, and the task is done
// at the first attempt.
func TestLeaseRenewed(t *testing.T) {
	const lease = 600 * time.Millisecond
	a := newTestAPI(t, 1, func(c *Config) { c.Lease = lease })
	src, err := veil.Decode(bytes.NewReader(mustRead(t, "../../testdata/group.jpg")))
	if err != nil {
		t.Fatal(err)
	}
	big := image.NewRGBA(image.Rect(0, 0, 3600, 2390)) // 8.6 MP: seconds of work
	xdraw.ApproxBiLinear.Scale(big, big.Rect, src, src.Bounds(), xdraw.Src, nil)
	var buf bytes.Buffer
	if err := veil.Encode(&buf, big, veil.EncodeOptions{Format: "jpeg", Quality: 90}); err != nil {
		t.Fatal(err)
	}
	id, up := a.create(t, `{"anonymization_method":"blur","face":true}`)
	ctx, cancel := context.WithCancel(context.Background())
	stolen := make(chan int64, 1)
	var wg sync.WaitGroup
	wg.Go(func() {
		// Once a worker processes the task, try to take it.
		for ctx.Err() == nil {
			if tk, err := a.cfg.Tasks.Get(ctx, id); err == nil && tk.Status == taskstore.StatusProcessing {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		for ctx.Err() == nil {
			if tk, err := a.cfg.Tasks.Claim(ctx, "thief", time.Minute); err == nil {
				stolen <- tk.ID
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
	put(t, up, "image/jpeg", buf.Bytes())
	m := a.wait(t, id)
	cancel()
	wg.Wait()
	select {
	case sid := <-stolen:
		t.Fatalf("task %d claimed by another worker while it was processed", sid)
	default:
	}
	got, err := a.cfg.Tasks.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	took := taskResult(got).Seconds
	if m["task_status"] != "done" || got.Attempts != 1 {
		t.Errorf("task %v after %d attempts", m["task_status"], got.Attempts)
	}
	if took < 2*lease.Seconds() {
		t.Errorf("processing took %.2f s, under two leases (%v): the test proves nothing", took, lease)
	}
	t.Logf("processed in %.2f s with a lease of %v", took, lease)
}

func mustRead(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSlots checks that a worker waits for a place of Config.Slots, which
// veil serve shares with v1's workers, before it claims a task.
func TestSlots(t *testing.T) {
	slots := make(chan struct{}, 1)
	slots <- struct{}{} // taken by a v1 task
	a := newTestAPI(t, 1, func(c *Config) { c.Slots = slots })
	id, up := a.create(t, `{"anonymization_method":"blur","face":true}`)
	put(t, up, "image/jpeg", mustRead(t, "../../testdata/street.jpg"))
	time.Sleep(300 * time.Millisecond)
	if tk, _ := a.cfg.Tasks.Get(context.Background(), id); tk.Status != taskstore.StatusQueued {
		t.Fatalf("task %s while every place is taken, want queued", tk.Status)
	}
	<-slots
	if m := a.wait(t, id); m["task_status"] != "done" {
		t.Errorf("task %v once a place is free", m["task_status"])
	}
}
