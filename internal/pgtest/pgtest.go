// Package pgtest gives tests a PostgreSQL database: a server of their
// own, started on the loopback interface from the PostgreSQL binaries
// installed on the machine, or the server VEIL_TEST_POSTGRES names.
//
// Start returns the connection string of a new, empty database: a schema
// of its own in the server's database, which the connection string makes
// the search_path (creating a schema takes milliseconds, a database a
// third of a second). The first call starts the server, which serves the
// whole test binary; a package that calls Start stops it with Main:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
//
// The binaries are initdb and postgres, found on PATH or under
// /usr/lib/postgresql/*/bin (where the Debian package postgresql puts
// them). Where they are absent, Start skips the test, unless
// VEIL_REQUIRE_POSTGRES=1 is set, when it fails it.
//
// PostgreSQL refuses to run as root. When the tests run as root, Start
// runs initdb and postgres as the user postgres (which the Debian
// package creates), or as nobody where there is no such user, in a data
// directory under os.TempDir that it gives to that user.
//
// VEIL_TEST_POSTGRES=postgres://... names an existing server and
// database instead: Start then creates its schemas there (the role needs
// the CREATE privilege on the database) and drops them when the test
// ends.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

var (
	once      sync.Once
	srv       *server
	srvErr    error
	skip      string // why there is no server, when the binaries are missing
	schemaSeq atomic.Int64
)

// Start returns the connection string (postgres://...) of a new, empty
// database, which only this test uses: a schema of its own, which the
// connection string makes the search_path.
func Start(t testing.TB) string {
	t.Helper()
	once.Do(func() {
		if base := os.Getenv("VEIL_TEST_POSTGRES"); base != "" {
			srv = &server{dsn: base, external: true}
			return
		}
		bin, err := findBinaries()
		if err != nil {
			skip = err.Error()
			return
		}
		srv, srvErr = start(bin)
	})
	if skip != "" {
		if os.Getenv("VEIL_REQUIRE_POSTGRES") == "1" {
			t.Fatalf("pgtest: %s, and VEIL_REQUIRE_POSTGRES=1", skip)
		}
		t.Skipf("pgtest: %s; install the Debian package postgresql, or set VEIL_TEST_POSTGRES=postgres://...", skip)
	}
	if srvErr != nil {
		t.Fatalf("pgtest: %v", srvErr)
	}
	dsn, err := srv.newSchema(t)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	return dsn
}

// Main runs the tests and then stops the server that Start started, and
// exits.
func Main(m *testing.M) {
	code := m.Run()
	Stop()
	os.Exit(code)
}

// Stop stops the server that Start started, if any, and removes its
// files.
func Stop() {
	if srv != nil && !srv.external {
		srv.stop()
	}
}

// findBinaries returns the directory that holds initdb and postgres.
func findBinaries() (string, error) {
	var dirs []string
	if p, err := exec.LookPath("initdb"); err == nil {
		dirs = append(dirs, filepath.Dir(p))
	}
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	// The newest version first: 17 before 9.6.
	sort.Slice(found, func(i, j int) bool { return version(found[i]) > version(found[j]) })
	dirs = append(dirs, found...)
	for _, d := range dirs {
		if isFile(filepath.Join(d, "initdb")) && isFile(filepath.Join(d, "postgres")) {
			return d, nil
		}
	}
	return "", errors.New("PostgreSQL is not installed (no initdb and postgres on PATH or under /usr/lib/postgresql/*/bin)")
}

// version returns the major version in a path /usr/lib/postgresql/V/bin.
func version(dir string) float64 {
	v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(dir)), 64)
	return v
}

func isFile(name string) bool {
	fi, err := os.Stat(name)
	return err == nil && fi.Mode().IsRegular()
}

// server is a PostgreSQL server the tests use.
type server struct {
	dsn      string // of its database postgres, or VEIL_TEST_POSTGRES
	external bool   // VEIL_TEST_POSTGRES: not started by pgtest
	dir      string // holds data/, the socket and log
	cmd      *exec.Cmd
	exited   chan struct{} // closed when cmd has exited
}

// start initializes a data directory and starts postgres on a free
// port, trying another port when another process took it first.
func start(bin string) (*server, error) {
	dir, err := os.MkdirTemp("", "veil-pgtest-")
	if err != nil {
		return nil, err
	}
	cred, err := credential(dir)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	data := filepath.Join(dir, "data")
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres",
		"--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync")
	initdb.Dir = dir
	initdb.SysProcAttr = sysProcAttr(cred, false)
	if out, err := initdb.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("initdb: %v\n%s", err, out)
	}
	for try := 0; ; try++ {
		s, err := run(bin, dir, cred)
		if err == nil || try == 2 {
			if err != nil {
				os.RemoveAll(dir)
			}
			return s, err
		}
	}
}

// runAs is the user and group a server process runs as.
type runAs struct{ uid, gid uint32 }

// credential returns who runs PostgreSQL: nil (this process's user)
// unless that is root, and gives dir to that user.
func credential(dir string) (*runAs, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		u, err = user.Lookup("nobody")
	}
	if err != nil {
		return nil, fmt.Errorf("running as root, and there is no user postgres or nobody to run PostgreSQL as: %v", err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err := errors.Join(err1, err2); err != nil {
		return nil, err
	}
	if err := os.Chown(dir, int(uid), int(gid)); err != nil {
		return nil, err
	}
	return &runAs{uid: uint32(uid), gid: uint32(gid)}, nil
}

// run starts postgres in dir and waits until it takes connections.
func run(bin, dir string, cred *runAs) (*server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	log, err := os.Create(filepath.Join(dir, "log"))
	if err != nil {
		return nil, err
	}
	defer log.Close()
	// fsync and the like are off: the data dies with the test.
	cmd := exec.Command(filepath.Join(bin, "postgres"), "-D", filepath.Join(dir, "data"),
		"-k", dir, "-p", strconv.Itoa(port),
		"-c", "listen_addresses=127.0.0.1",
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "max_connections=200")
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = log, log
	// postgres stops (fast shutdown) when the test binary dies without
	// calling Stop.
	cmd.SysProcAttr = sysProcAttr(cred, true)
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{
		dsn:    fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port),
		dir:    dir,
		cmd:    cmd,
		exited: make(chan struct{}),
	}
	go func() {
		cmd.Wait()
		close(s.exited)
	}()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		c, err := pgx.Connect(ctx, s.dsn)
		cancel()
		if err == nil {
			c.Close(context.Background())
			return s, nil
		}
		select {
		case <-s.exited:
			return nil, fmt.Errorf("postgres exited: %v\n%s", cmd.ProcessState, tail(filepath.Join(dir, "log")))
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("postgres did not take connections in 30 s: %v\n%s", err, tail(filepath.Join(dir, "log")))
		}
	}
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// tail returns the end of the file name.
func tail(name string) string {
	b, _ := os.ReadFile(name)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// stop shuts the server down (fast shutdown, then kill) and removes dir.
func (s *server) stop() {
	s.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		s.cmd.Process.Kill()
		<-s.exited
	}
	os.RemoveAll(s.dir)
}

// newSchema creates a schema for t in the server's database and returns
// a connection string whose search_path is that schema alone. On the
// server of VEIL_TEST_POSTGRES, it drops the schema when t ends.
func (s *server) newSchema(t testing.TB) (string, error) {
	name := fmt.Sprintf("veiltest_%d_%d_%08x", os.Getpid(), schemaSeq.Add(1), rand.Uint32())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, s.dsn)
	if err != nil {
		return "", err
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, "CREATE SCHEMA "+name); err != nil {
		return "", fmt.Errorf("creating schema %s: %v", name, err)
	}
	if s.external {
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			c, err := pgx.Connect(ctx, s.dsn)
			if err != nil {
				t.Logf("pgtest: dropping schema %s: %v", name, err)
				return
			}
			defer c.Close(ctx)
			if _, err := c.Exec(ctx, "DROP SCHEMA "+name+" CASCADE"); err != nil {
				t.Logf("pgtest: dropping schema %s: %v", name, err)
			}
		})
	}
	return withSearchPath(s.dsn, name)
}

// withSearchPath returns dsn, a postgres:// URL, with search_path set to
// schema.
func withSearchPath(dsn, schema string) (string, error) {
	u, err := url.Parse(dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", fmt.Errorf("VEIL_TEST_POSTGRES is not a postgres:// URL")
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), nil
}
