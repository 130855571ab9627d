package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/veilkit/veil"
	"github.com/veilkit/veil/internal/pgtest"
	"github.com/veilkit/veil/internal/s3test"
	"github.com/veilkit/veil/internal/servetest"
	"github.com/veilkit/veil/internal/taskstore"
	"github.com/veilkit/veil/internal/v2client"
)

// Worker log lines of the Cloud API v2 (internal/cloudapi).
var (
	processingLine = regexp.MustCompile(`task (\d+) processing by worker`)
	doneLine       = regexp.MustCompile(`task (\d+) done by worker`)
)

// TestScaleOut runs the Cloud API v2 as it is deployed on several
// machines: one API process (-v2-workers 0) and two worker processes
// (-workers-only) sharing a PostgreSQL task store and an S3 bucket, all
// real servers on loopback. 100 tasks are created and uploaded straight
// into the bucket; while they are processed, one worker is killed
// (SIGKILL) in the middle of a task. Every task must end done, none done
// twice, and the killed worker's task must be taken over by the other.
func TestScaleOut(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	const tasks = 100
	dsn, bucket := pgtest.Start(t), s3test.Start(t)
	img, err := os.ReadFile("../../testdata/street.jpg")
	if err != nil {
		t.Fatal(err)
	}
	state := t.TempDir()
	start := func(args ...string) *servetest.Process {
		t.Helper()
		args = append([]string{"serve", "-db", dsn, "-bucket", bucket, "-lease", "3s", "-threads", "1"}, args...)
		cmd := exec.Command(os.Args[0], args...)
		cmd.Env = append(os.Environ(), "VEIL_TEST_MAIN=1", "XDG_STATE_HOME="+state)
		p, err := servetest.Start(cmd, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.Stop(30 * time.Second) })
		return p
	}
	api := start("-addr", "127.0.0.1:0", "-v2-workers", "0")
	killed := start("-workers-only", "-workers", "1")
	survivor := start("-workers-only", "-workers", "1")

	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	c := &v2client.Client{Base: api.URL}
	ids := make([]int64, tasks)
	var wg sync.WaitGroup
	errs := make(chan error, tasks)
	for i := range ids {
		wg.Go(func() {
			id, up, err := c.Create(ctx, `{"anonymization_method":"blur","face":true,"license_plate":true}`)
			if err == nil {
				err = c.Upload(ctx, up, "image/jpeg", img)
			}
			ids[i] = id
			errs <- err
		})
		if i%8 == 7 {
			wg.Wait()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}

	// Kill one worker once it has done a few tasks, in the middle of its
	// next one: a task it began and did not finish.
	var victim int64
	for victim == 0 {
		if ctx.Err() != nil {
			t.Fatalf("the worker to kill did not get going:\n%s", killed.Log())
		}
		log := killed.Log()
		if len(doneLine.FindAllString(log, -1)) >= 5 {
			if m := processingLine.FindAllStringSubmatch(log, -1); len(m) > 0 {
				last, _ := strconv.ParseInt(m[len(m)-1][1], 10, 64)
				done := fmt.Sprintf("task %d done by", last)
				if !strings.Contains(log, done) {
					if err := killed.Kill(); err != nil {
						t.Fatal(err)
					}
					// It may have finished between the look and the kill.
					if !strings.Contains(killed.Log(), done) {
						victim = last
					} else {
						t.Fatalf("task %d ended before the kill; nothing to take over", last)
					}
				}
			}
		}
		time.Sleep(5 * time.Millisecond)
	}

	for _, id := range ids {
		task, err := c.Wait(ctx, id, 100*time.Millisecond)
		if err != nil {
			t.Fatalf("%v\nsurvivor:\n%s", err, survivor.Log())
		}
		if task.Status != "done" {
			t.Errorf("task %d %s (%s)", id, task.Status, task.FailureCause)
		}
	}

	// Done once: each task has at most one "done" line in the two
	// workers' logs, and all of them have one (none was lost).
	doneBy := make(map[int64][]string)
	for name, p := range map[string]*servetest.Process{"killed": killed, "survivor": survivor} {
		for _, m := range doneLine.FindAllStringSubmatch(p.Log(), -1) {
			id, _ := strconv.ParseInt(m[1], 10, 64)
			doneBy[id] = append(doneBy[id], name)
		}
	}
	for _, id := range ids {
		if len(doneBy[id]) != 1 {
			t.Errorf("task %d done %d times (%v)", id, len(doneBy[id]), doneBy[id])
		}
	}
	if len(doneBy) != tasks {
		t.Errorf("%d tasks done, want %d", len(doneBy), tasks)
	}
	if got := doneBy[victim]; len(got) != 1 || got[0] != "survivor" {
		t.Errorf("task %d, whose worker was killed, done by %v, want the survivor", victim, got)
	}
	store, err := taskstore.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if vt, err := store.Get(ctx, victim); err != nil || vt.Attempts < 2 {
		t.Errorf("task %d, whose worker was killed: attempts %d (%v), want 2 or more", victim, vt.Attempts, err)
	}
	t.Logf("%d tasks done by 2 workers; worker killed in task %d: done by the survivor; the killed worker did %d",
		tasks, victim, len(doneLine.FindAllString(killed.Log(), -1)))

	// The result of the task taken over is an image, downloaded from the
	// bucket through its pre-signed URL.
	vt, err := c.Task(ctx, victim)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(vt.AnonymizedURL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if _, err := veil.Decode(resp.Body); err != nil {
		t.Errorf("anonymized image of task %d: %v", victim, err)
	}
}
