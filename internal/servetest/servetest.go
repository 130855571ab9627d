// Package servetest runs veil serve processes for tests and load tests:
// it starts one, waits until it says it is ready, keeps what it logs, and
// stops it gently or kills it.
package servetest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"time"
)

// Process is a running veil serve.
type Process struct {
	cmd  *exec.Cmd
	URL  string // the address it listens on, http://host:port/; "" for -workers-only
	mu   sync.Mutex
	log  bytes.Buffer // stdout and stderr
	done chan struct{}
}

// listening is the line veil serve prints once it serves HTTP.
var listening = regexp.MustCompile(`listening on (http://\S+/)`)

// Start starts cmd (a veil serve command line, with -addr 127.0.0.1:0 to
// pick a free port) and waits until it prints that it listens, or that it
// runs workers only, or exits, or timeout passes.
func Start(cmd *exec.Cmd, timeout time.Duration) (*Process, error) {
	pr, pw := io.Pipe()
	p := &Process{cmd: cmd, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(nil, 1<<20)
		sent := false
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			p.log.WriteString(line + "\n")
			p.mu.Unlock()
			if !sent {
				if m := listening.FindStringSubmatch(line); m != nil {
					ready <- m[1]
					sent = true
				} else if strings.Contains(line, "workers only") {
					ready <- ""
					sent = true
				}
			}
		}
		io.Copy(io.Discard, pr)
	}()
	go func() {
		cmd.Wait()
		pw.Close()
		close(p.done)
	}()
	select {
	case p.URL = <-ready:
		return p, nil
	case <-p.done:
		return nil, fmt.Errorf("servetest: %s exited before it was ready: %s\n%s", cmd.Path, cmd.ProcessState, p.Log())
	case <-time.After(timeout):
		p.Kill()
		return nil, fmt.Errorf("servetest: %s not ready after %v:\n%s", cmd.Path, timeout, p.Log())
	}
}

// Log returns what the process printed so far.
func (p *Process) Log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.String()
}

// Kill kills the process at once (SIGKILL on Unix), as a crash would, and
// waits for it to exit.
func (p *Process) Kill() error {
	err := p.cmd.Process.Kill()
	<-p.done
	if errors.Is(err, os.ErrProcessDone) {
		err = nil
	}
	return err
}

// Stop interrupts the process (Ctrl-C) and waits up to timeout for it to
// exit, then kills it.
func (p *Process) Stop(timeout time.Duration) error {
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return p.Kill()
	}
	select {
	case <-p.done:
		return nil
	case <-time.After(timeout):
		p.Kill()
		return fmt.Errorf("servetest: %s still running %v after an interrupt", p.cmd.Path, timeout)
	}
}

// Exited reports whether the process has exited.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}
