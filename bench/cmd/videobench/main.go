// Command videobench measures veil's end-to-end video speed: it makes a
// 1080p clip from the bundled photos with ffmpeg (the group photo, its 52
// faces, panning slowly across the frame, the street photo with its bus
// and plate beside it, and a tone), anonymizes faces and licence plates
// with veil.AnonymizeVideo and reports frames per second, next to
// ffmpeg's own decode+encode of the same clip as the reference, and its
// own process's peak resident memory and CPU time.
//
// Usage:
//
//	go run ./bench/cmd/videobench [-seconds 10] [-threads 2] [-keep DIR]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"time"

	"github.com/veilkit/veil"
)

var (
	every   *int
	profile string
)

func main() {
	seconds := flag.Int("seconds", 10, "length of the clip in seconds (30 fps)")
	threads := flag.Int("threads", 2, "GOMAXPROCS and model threads")
	keep := flag.String("keep", "", "keep the clip and the output in this folder")
	noTrack := flag.Bool("no-object-tracking", false, "turn tracking off")
	noHeads := flag.Bool("no-heads", false, "turn the head backstop off (Params.NoHeads)")
	every = flag.Int("detect-every", 1, "run the detectors on every n-th frame (VideoOptions.DetectEvery)")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of veil's run to this file")
	flag.Parse()
	runtime.GOMAXPROCS(*threads)
	profile = *cpuprofile
	if err := run(*seconds, *threads, *keep, *noTrack, *noHeads); err != nil {
		fmt.Fprintln(os.Stderr, "videobench:", err)
		os.Exit(1)
	}
}

func run(seconds, threads int, keep string, noTrack, noHeads bool) error {
	dir := keep
	if dir == "" {
		d, err := os.MkdirTemp("", "videobench")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	src := filepath.Join(dir, "clip1080p.mp4")
	dur := fmt.Sprint(seconds)
	// 1920×1080: the group photo scaled to 1440×956 panning 1 px a frame
	// on the left, the street photo scaled to 480×360 on the right.
	gen := exec.Command("ffmpeg", "-nostdin", "-v", "error", "-y",
		"-f", "lavfi", "-i", "color=c=gray:s=1920x1080:r=30:d="+dur,
		"-loop", "1", "-framerate", "30", "-i", "testdata/group.jpg",
		"-loop", "1", "-framerate", "30", "-i", "testdata/street.jpg",
		"-f", "lavfi", "-i", "sine=frequency=440:duration="+dur,
		"-filter_complex", "[1]scale=1440:956[g];[2]scale=480:360[s];[0][g]overlay=x='n':y=62:shortest=1[a];[a][s]overlay=x=1440:y=360:shortest=1,format=yuv420p",
		"-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-c:a", "aac", "-frames:v", fmt.Sprint(30*seconds), src)
	if out, err := gen.CombinedOutput(); err != nil {
		return fmt.Errorf("making the clip (run from the repository root): %v\n%s", err, out)
	}
	frames := 30 * seconds

	// Reference: ffmpeg decoding and re-encoding the clip as veil does.
	ref := filepath.Join(dir, "ffmpeg.mp4")
	t0 := time.Now()
	cp := exec.Command("ffmpeg", "-nostdin", "-v", "error", "-y", "-i", src, "-c:v", "libx264", "-preset", "veryfast",
		"-crf", "18", "-c:a", "copy", ref)
	if out, err := cp.CombinedOutput(); err != nil {
		return fmt.Errorf("ffmpeg reference: %v\n%s", err, out)
	}
	refTook := time.Since(t0)

	e, err := veil.New(veil.WithThreads(threads))
	if err != nil {
		return err
	}
	dst := filepath.Join(dir, "anonymized.mp4")
	if profile != "" {
		f, err := os.Create(profile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	t0 = time.Now()
	res, err := e.AnonymizeVideo(context.Background(), src, dst, veil.Params{Classes: []veil.Class{veil.Face, veil.LicensePlate}, NoHeads: noHeads},
		veil.VideoOptions{NoObjectTracking: noTrack, DetectEvery: *every, Progress: func(done, total int) {
			if done%30 == 0 {
				fmt.Fprintf(os.Stderr, "\r%d/%d frames", done, total)
			}
		}})
	if err != nil {
		return err
	}
	took := time.Since(t0)
	fmt.Fprintln(os.Stderr)
	objects := 0
	for _, f := range res.Frames {
		objects += len(f.Detections)
	}
	fmt.Printf("clip: 1920x1080, %d frames at 30 fps, faces+plates, %d threads, tracking %v, heads %v, detect every %d frame(s)\n", frames, threads, !noTrack, !noHeads, max(1, *every))
	fmt.Printf("veil AnonymizeVideo:    %6.2f s  %6.1f fps  (%.1f objects a frame)\n", took.Seconds(), float64(frames)/took.Seconds(), float64(objects)/float64(frames))
	fmt.Printf("ffmpeg decode+encode:   %6.2f s  %6.1f fps  (the floor: veil's share is the difference)\n", refTook.Seconds(), float64(frames)/refTook.Seconds())
	if peak, cpu, ok := usage(); ok {
		fmt.Printf("veil's process:         peak RSS %.2f GB, CPU %.1f s (%.0f ms a frame; ffmpeg's processes not counted)\n",
			float64(peak)/1e9, cpu.Seconds(), cpu.Seconds()*1000/float64(frames))
	}
	return nil
}
