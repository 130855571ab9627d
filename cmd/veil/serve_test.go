package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/veilkit/veil/internal/servetest"
	"github.com/veilkit/veil/internal/taskstore"
	"github.com/veilkit/veil/internal/v2client"
)

func TestServeCommandErrors(t *testing.T) {
	for _, args := range [][]string{
		{"serve", "extra"},
		{"serve", "-workers", "0"},
		{"serve", "-queue", "x"},
		{"serve", "-a", "cat"},
		{"serve", "-format", "pano:1"},
		{"serve", "-save-mask", "some"},
		{"serve", "-task-timeout", "0s"},
		{"serve", "-task-timeout", "-1m"},
		{"serve", "-task-timeout", "ten"},
		{"serve", "-max-uploads", "0"},
		{"serve", "-upload-idle-timeout", "0s"},
		{"serve", "-min-upload-rate", "0"},
		{"serve", "-keep-sync", "-1"},
	} {
		var out, errb bytes.Buffer
		if code := run(args, &out, &errb); code != exitUsage {
			t.Errorf("%v: exit status %d, want %d (%s)", args, code, exitUsage, errb.String())
		}
	}
	var out, errb bytes.Buffer
	if code := run([]string{"serve", "-h"}, &out, &errb); code != exitOK || !bytes.Contains(out.Bytes(), []byte("Celantur Container REST API")) ||
		!bytes.Contains(out.Bytes(), []byte("-save-mask")) || !bytes.Contains(out.Bytes(), []byte("-task-timeout")) ||
		!bytes.Contains(out.Bytes(), []byte("-max-uploads")) || !bytes.Contains(out.Bytes(), []byte("-api\n")) {
		t.Errorf("serve -h: %d %s", code, out.String())
	}
}

func TestDataDirFor(t *testing.T) {
	home := func() (string, error) { return "/home/u", nil }
	config := func() (string, error) { return "/cfg", nil }
	noHome := func() (string, error) { return "", errors.New("$HOME is not defined") }
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == "XDG_STATE_HOME" {
				return v
			}
			return ""
		}
	}
	for _, tc := range []struct {
		goos, xdg string
		home      func() (string, error)
		want      string // "" for an error
	}{
		{"linux", "", home, filepath.Join("/home/u", ".local", "state", "veil", "serve")},
		{"linux", "/state", home, filepath.Join("/state", "veil", "serve")},
		{"linux", "relative/state", home, filepath.Join("/home/u", ".local", "state", "veil", "serve")},
		{"freebsd", "/state", noHome, filepath.Join("/state", "veil", "serve")},
		{"linux", "", noHome, ""},
		{"windows", "/state", home, filepath.Join("/cfg", "veil", "serve")},
		{"darwin", "", home, filepath.Join("/cfg", "veil", "serve")},
	} {
		got, err := dataDirFor(tc.goos, env(tc.xdg), tc.home, config)
		if tc.want == "" {
			if err == nil {
				t.Errorf("%s XDG_STATE_HOME=%q: got %q, want an error", tc.goos, tc.xdg, got)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s XDG_STATE_HOME=%q: got %q, %v; want %q", tc.goos, tc.xdg, got, err, tc.want)
		}
	}
}

// TestServeDataFolders starts veil serve (stopped at once) and checks
// that it says where its data goes: by default the state folder, never
// the working directory; -input and -output still choose the folders.
func TestServeDataFolders(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "darwin" || runtime.GOOS == "ios" || runtime.GOOS == "plan9" {
		t.Skip("the default is in os.UserConfigDir here")
	}
	state := t.TempDir()
	t.Setenv("XDG_STATE_HOME", state)
	wd := t.TempDir()
	t.Chdir(wd)
	in, out := filepath.Join(t.TempDir(), "in"), filepath.Join(t.TempDir(), "out")
	def := filepath.Join(state, "veil", "serve")
	for _, tc := range []struct {
		args    []string
		in, out string
	}{
		{nil, filepath.Join(def, "input"), filepath.Join(def, "output")},
		{[]string{"--api"}, filepath.Join(def, "input"), filepath.Join(def, "output")},
		{[]string{"-input", in, "-output", out}, in, out},
	} {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		var stdout, stderr bytes.Buffer
		args := append([]string{"serve", "-addr", "127.0.0.1:0"}, tc.args...)
		if code := runContext(ctx, args, &stdout, &stderr); code != exitOK {
			t.Fatalf("%v: exit status %d: %s", args, code, stderr.String())
		}
		db := "sqlite:" + filepath.Join(def, "tasks.db")
		want := fmt.Sprintf("veil serve: uploads in %s, results in %s, task records in %s\n", tc.in, tc.out, db)
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("%v: stdout %q, want a line %q", args, stdout.String(), want)
		}
		for _, d := range []string{tc.in, tc.out, strings.TrimPrefix(db, "sqlite:")} {
			if _, err := os.Stat(d); err != nil {
				t.Errorf("%v: %v", args, err)
			}
		}
		// The task records are in the database, as the Cloud API v2's.
		if _, err := os.Stat(filepath.Join(tc.out, "tasks")); !os.IsNotExist(err) {
			t.Errorf("%v: %s: %v, want none", args, filepath.Join(tc.out, "tasks"), err)
		}
	}
	if fi, err := os.Stat(def); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("%s: %v, %v; want a folder with mode 0700", def, fi, err)
	}
	if ents, _ := os.ReadDir(wd); len(ents) > 0 {
		t.Errorf("veil serve wrote %v into the working directory", ents)
	}
}

// TestPackageDocListsCommands checks that the package comment, which
// go doc shows, names every command.
func TestPackageDocListsCommands(t *testing.T) {
	src, err := os.ReadFile("main.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range commands {
		if !bytes.Contains(src, []byte("//\t"+c.name+" ")) {
			t.Errorf("the package comment does not list the command %s", c.name)
		}
	}
}

// TestServeV1RecordsInDB checks that veil serve keeps the task records of
// the Container REST API v1 in -db, with the Cloud API v2's tasks: a v1
// task's record is in the database, beside a v2 task, survives a
// restart, and is kept in no file of its own.
func TestServeV1RecordsInDB(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "veil.db")
	in, out := filepath.Join(dir, "in"), filepath.Join(dir, "out")
	start := func() *servetest.Process {
		t.Helper()
		cmd := exec.Command(os.Args[0], "serve", "-addr", "127.0.0.1:0", "-db", "sqlite:"+dbPath,
			"-bucket", filepath.Join(dir, "blobs"), "-input", in, "-output", out, "-workers", "1")
		cmd.Env = append(os.Environ(), "VEIL_TEST_MAIN=1", "XDG_STATE_HOME="+filepath.Join(dir, "state"))
		p, err := servetest.Start(cmd, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.Stop(30 * time.Second) })
		return p
	}
	ctx := context.Background()
	p := start()
	if want := "task records in sqlite:" + dbPath + "\n"; !strings.Contains(p.Log(), want) {
		t.Errorf("start-up lines %q, want one ending %q", p.Log(), want)
	}
	img, err := os.ReadFile("../../testdata/plate.jpg")
	if err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="fileobject"; filename="plate.jpg"`)
	h.Set("Content-Type", "image/jpeg")
	pw, _ := mw.CreatePart(h)
	pw.Write(img)
	mw.Close()
	resp, err := http.Post(p.URL+"v1/file", mw.FormDataContentType(), &body)
	if err != nil {
		t.Fatal(err)
	}
	var up struct{ ID string }
	err = json.NewDecoder(resp.Body).Decode(&up)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 || up.ID == "" {
		t.Fatalf("POST /v1/file: %d, %v", resp.StatusCode, err)
	}
	v2id, _, err := (&v2client.Client{Base: p.URL}).Create(ctx, `{"anonymization_method":"blur","face":true}`)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Stop(30 * time.Second); err != nil {
		t.Fatalf("%v\n%s", err, p.Log())
	}

	st, err := taskstore.Open(ctx, "sqlite:"+dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	kind, err := os.ReadFile(filepath.Join(out, ".task-records"))
	if err != nil {
		t.Fatal(err)
	}
	recs, err := st.Records(ctx, strings.TrimSpace(string(kind)))
	if err != nil || len(recs) != 1 || recs[0].ID != up.ID || !bytes.Contains(recs[0].Data, []byte(`"status":"done"`)) {
		t.Errorf("v1 records in the database: %q, %v; want task %s done", recs, err, up.ID)
	}
	if _, err := st.Get(ctx, v2id); err != nil {
		t.Errorf("v2 task %d in the database: %v", v2id, err)
	}
	for _, f := range []string{filepath.Join(out, "tasks"), filepath.Join(out, "tasks.db"), filepath.Join(out, up.ID+".json")} {
		if _, err := os.Stat(f); !os.IsNotExist(err) {
			t.Errorf("%s: %v, want none", f, err)
		}
	}

	p = start()
	resp, err = http.Get(p.URL + "v1/task/" + up.ID)
	if err != nil {
		t.Fatal(err)
	}
	var task struct{ Status string }
	err = json.NewDecoder(resp.Body).Decode(&task)
	resp.Body.Close()
	if err != nil || task.Status != "done" {
		t.Errorf("GET /v1/task/%s after a restart: %d %+v %v", up.ID, resp.StatusCode, task, err)
	}
}
