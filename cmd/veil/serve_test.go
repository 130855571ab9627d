package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
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
		want := fmt.Sprintf("veil serve: uploads in %s, results in %s, task records in %s\n", tc.in, tc.out, filepath.Join(tc.out, "tasks"))
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("%v: stdout %q, want a line %q", args, stdout.String(), want)
		}
		for _, d := range []string{tc.in, filepath.Join(tc.out, "tasks")} {
			if _, err := os.Stat(d); err != nil {
				t.Errorf("%v: %v", args, err)
			}
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
