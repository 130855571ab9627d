package taskstore

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"
)

// TestSQLiteProcesses has two processes, of four workers each, share a
// SQLite file, claiming and finishing 200 tasks: each exactly once.
func TestSQLiteProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	const n, procs = 200, 2
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "tasks.db")
	s := open(t, dsn)
	for range n {
		create(t, s, Task{Status: StatusQueued})
	}
	outs := make([]bytes.Buffer, procs)
	cmds := make([]*exec.Cmd, procs)
	for i := range cmds {
		cmd := exec.Command(os.Args[0], "-test.run=^TestWorkerProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(), "VEIL_TASKSTORE_WORKER_DSN="+dsn, fmt.Sprint("VEIL_TASKSTORE_WORKER_NAME=p", i))
		cmd.Stdout = &outs[i]
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds[i] = cmd
	}
	finished := map[int64]int{}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("worker process %d: %v\n%s", i, err, outs[i].Bytes())
		}
		sc := bufio.NewScanner(&outs[i])
		for sc.Scan() {
			var id int64
			if _, err := fmt.Sscanf(sc.Text(), "finished %d", &id); err == nil {
				finished[id]++
			}
		}
	}
	for id, k := range finished {
		if k != 1 {
			t.Errorf("task %d finished %d times", id, k)
		}
	}
	if len(finished) != n {
		t.Errorf("%d tasks finished, want %d", len(finished), n)
	}
}

// TestWorkerProcess is a worker process of TestSQLiteProcesses: it
// claims and finishes tasks, printing "finished ID" for each.
func TestWorkerProcess(t *testing.T) {
	dsn := os.Getenv("VEIL_TASKSTORE_WORKER_DSN")
	if dsn == "" {
		t.Skip("a worker process of TestSQLiteProcesses")
	}
	name := os.Getenv("VEIL_TASKSTORE_WORKER_NAME")
	ctx := context.Background()
	s := open(t, dsn)
	var mu sync.Mutex // serializes the lines printed
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			worker := name + ":" + strconv.Itoa(g)
			for {
				c, err := s.Claim(ctx, worker, time.Minute)
				if errors.Is(err, ErrNoTask) {
					return
				}
				if err != nil {
					t.Errorf("%s: Claim: %v", worker, err)
					return
				}
				if _, err := s.Finish(ctx, c.ID, worker, func(t *Task) error { t.Status = StatusDone; return nil }); err != nil {
					t.Errorf("%s: Finish(%d): %v", worker, c.ID, err)
					return
				}
				mu.Lock()
				fmt.Printf("finished %d\n", c.ID)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}
