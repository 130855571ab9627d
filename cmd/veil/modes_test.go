//go:build unix

package main

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
)

// TestOutputModes checks that every file veil anonymize writes — the
// image, its masks and metadata, the video and its frame metadata — has
// the mode os.Create gives a file, 0o666 less the umask, under the
// umasks 022 and 077. The video needs ffmpeg: without it the test is
// skipped.
func TestOutputModes(t *testing.T) {
	in := filepath.Join(t.TempDir(), "in")
	makeClip(t, filepath.Join(in, "clip.mp4"), "-c:v", "libx264", "-c:a", "aac")
	copyFile(t, plateJPG, filepath.Join(in, "plate.jpg"))
	for _, c := range []struct {
		umask string
		want  fs.FileMode
	}{{"022", 0o644}, {"077", 0o600}} {
		out := filepath.Join(t.TempDir(), "out")
		// The shell sets the umask of veil's process before it starts.
		cmd := exec.Command("/bin/sh", "-c", `umask "$0" && exec "$@"`, c.umask,
			os.Args[0], "anonymize", "--metadata", "--save-mask", "all", in, "-o", out)
		cmd.Env = append(os.Environ(), "VEIL_TEST_MAIN=1")
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("umask %s: veil anonymize: %v\n%s", c.umask, err, b)
		}
		want := []string{"clip-0-24.json", "clip.mp4", "plate.jpg", "plate.json", "plate_bin_mask.png", "plate_ins_mask.png"}
		got := files(t, out)
		if !slices.Equal(got, want) {
			t.Fatalf("umask %s: outputs %q, want %q", c.umask, got, want)
		}
		for _, name := range got {
			fi, err := os.Stat(filepath.Join(out, name))
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != c.want {
				t.Errorf("umask %s: %s has mode %v, want %v", c.umask, name, fi.Mode().Perm(), c.want)
			}
		}
	}
}
