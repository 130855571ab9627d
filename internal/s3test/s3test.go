// Package s3test starts a real S3-compatible server, SeaweedFS's weed, on
// loopback for tests, and gives each test a fresh bucket on it.
//
// The weed binary is not part of the module: build it once with
// .ci/build-weed, which puts it where Start looks for it,
// $GOCACHE/../veil-weed/weed (GOCACHE as `go env GOCACHE` prints it), or
// point the environment variable VEIL_WEED at one. Without it, Start skips
// the test, or fails it where VEIL_REQUIRE_S3=1.
package s3test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// The credentials of the test server. Start sets them as
// AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY of the test process, which is
// where gocloud's s3blob finds them.
const (
	AccessKeyID     = "veiltestkey"
	SecretAccessKey = "veiltestsecret0123456789"
	Region          = "us-east-1"
)

var (
	mu       sync.Mutex
	endpoint string // of the server this process started, once up
	startErr error  // why it could not start, once tried
	skipMsg  string // why there is no server to start
)

// Start returns the URL, for gocloud's blob.OpenBucket (and
// blobstore.Open), of a new empty bucket on an S3-compatible server on
// loopback:
//
//	s3://veil-test-HEX?endpoint=http://127.0.0.1:PORT&region=us-east-1&use_path_style=true
//
// The first call in a test process starts the server, which serves every
// later call and stops when the process exits. Start skips t when no weed
// binary is found (see the package documentation), unless the environment
// has VEIL_REQUIRE_S3=1.
func Start(t testing.TB) (bucketURL string) {
	t.Helper()
	ep, skip, err := server()
	if skip != "" {
		if os.Getenv("VEIL_REQUIRE_S3") == "1" {
			t.Fatalf("s3test: %s (VEIL_REQUIRE_S3=1)", skip)
		}
		t.Skipf("s3test: %s", skip)
	}
	if err != nil {
		t.Fatalf("s3test: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	name := "veil-test-" + rand.Text()[:12]
	name = strings.ToLower(name)
	if err := createBucket(ctx, ep, name); err != nil {
		t.Fatalf("s3test: creating bucket %s: %v", name, err)
	}
	q := url.Values{}
	q.Set("endpoint", ep)
	q.Set("region", Region)
	q.Set("use_path_style", "true")
	return "s3://" + name + "?" + q.Encode()
}

// WeedPath returns the weed binary Start uses, and "" if there is none.
func WeedPath() string {
	if p := os.Getenv("VEIL_WEED"); p != "" {
		return p
	}
	cache := os.Getenv("GOCACHE")
	if cache == "" {
		out, err := exec.Command("go", "env", "GOCACHE").Output()
		if err == nil {
			cache = strings.TrimSpace(string(out))
		}
	}
	if cache == "" || cache == "off" {
		return ""
	}
	p := filepath.Join(filepath.Dir(cache), "veil-weed", "weed")
	if _, err := os.Stat(p); err != nil {
		return ""
	}
	return p
}

// server returns the endpoint of the process's server, starting it on the
// first call, or why there is none: skip, or err.
func server() (ep, skip string, err error) {
	mu.Lock()
	defer mu.Unlock()
	if endpoint != "" || startErr != nil || skipMsg != "" {
		return endpoint, skipMsg, startErr
	}
	weed := WeedPath()
	if weed == "" {
		skipMsg = "no weed binary for the S3 tests: run .ci/build-weed, or set VEIL_WEED to one"
		return "", skipMsg, nil
	}
	if _, err := os.Stat(weed); err != nil {
		skipMsg = fmt.Sprintf("VEIL_WEED: %v (.ci/build-weed builds weed)", err)
		return "", skipMsg, nil
	}
	os.Setenv("AWS_ACCESS_KEY_ID", AccessKeyID)
	os.Setenv("AWS_SECRET_ACCESS_KEY", SecretAccessKey)
	os.Unsetenv("AWS_SESSION_TOKEN")
	os.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	endpoint, startErr = startWeed(weed)
	return endpoint, "", startErr
}

// watchdog runs weed and stops it, and removes its data folder, when its
// own standard input closes: when the test process exits, however it exits.
const watchdog = `dir=$1; shift
"$@" </dev/null &
pid=$!
read -r _
kill $pid 2>/dev/null
wait $pid
rm -rf "$dir"
`

func startWeed(weed string) (string, error) {
	dir, err := os.MkdirTemp("", "veil-weed-*")
	if err != nil {
		return "", err
	}
	ports, err := freePorts(8)
	if err != nil {
		return "", err
	}
	p := func(i int) string { return strconv.Itoa(ports[i]) }
	args := []string{
		"mini",
		"-dir=" + filepath.Join(dir, "data"),
		"-ip=127.0.0.1", "-ip.bind=127.0.0.1",
		"-master.port=" + p(0), "-master.port.grpc=" + p(1),
		"-volume.port=" + p(2), "-volume.port.grpc=" + p(3),
		"-filer.port=" + p(4), "-filer.port.grpc=" + p(5),
		"-s3.port=" + p(6), "-s3.port.grpc=" + p(7),
		"-s3.port.iceberg=0", "-s3.port.lance=0",
		"-webdav=false", "-admin.ui=false",
		"-master.telemetry=false",
	}
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o755); err != nil {
		return "", err
	}
	logName := filepath.Join(dir, "weed.log")
	log, err := os.Create(logName)
	if err != nil {
		return "", err
	}
	defer log.Close()
	cmd := exec.Command("sh", append([]string{"-c", watchdog, "sh", dir, weed}, args...)...)
	cmd.Stdout = log
	cmd.Stderr = log
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID="+AccessKeyID, "AWS_SECRET_ACCESS_KEY="+SecretAccessKey)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return "", err
	}
	if err := cmd.Start(); err != nil {
		return "", err
	}
	// stdin stays open, unreferenced but for this goroutine, as long as
	// the process lives.
	exited := make(chan error, 1)
	go func() {
		exited <- cmd.Wait()
		stdin.Close()
	}()

	ep := "http://127.0.0.1:" + p(6)
	deadline := time.Now().Add(2 * time.Minute)
	probe := "veil-probe-" + strings.ToLower(rand.Text()[:8])
	var last error
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			return "", fmt.Errorf("weed exited (%v); its log:\n%s", err, tail(logName))
		case <-time.After(250 * time.Millisecond):
		}
		// Ready when an object can be written: the volume server has
		// joined the master, not just the S3 gateway listening.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		last = probeWrite(ctx, ep, probe)
		cancel()
		if last == nil {
			return ep, nil
		}
	}
	stdin.Close()
	return "", fmt.Errorf("weed not ready after 2 minutes: %v; its log:\n%s", last, tail(logName))
}

// freePorts returns n distinct ports that were free on 127.0.0.1.
func freePorts(n int) ([]int, error) {
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func tail(name string) string {
	b, _ := os.ReadFile(name)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

func client(ep string) *s3.Client {
	return s3.New(s3.Options{
		Region:       Region,
		BaseEndpoint: aws.String(ep),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(AccessKeyID, SecretAccessKey, ""),
	})
}

func createBucket(ctx context.Context, ep, name string) error {
	_, err := client(ep).CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)})
	return err
}

// probeWrite creates bucket and writes and deletes an object in it.
func probeWrite(ctx context.Context, ep, bucket string) error {
	c := client(ep)
	_, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)})
	if err != nil && !isAlreadyOwned(err) {
		return err
	}
	key := aws.String("probe")
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: key, Body: bytes.NewReader([]byte("probe"))}); err != nil {
		return err
	}
	_, err = c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: key})
	return err
}

func isAlreadyOwned(err error) bool {
	var owned interface{ ErrorCode() string }
	return errors.As(err, &owned) && (owned.ErrorCode() == "BucketAlreadyOwnedByYou" || owned.ErrorCode() == "BucketAlreadyExists")
}
