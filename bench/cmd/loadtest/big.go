package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// runBig posts n uploads of size bytes at once: the image img, then zeros
// (decoders stop at the image's end), each body generated as it is sent.
// It waits for every task to end done and returns the failures.
func runBig(ctx context.Context, c *client, img []byte, n int, size int64) (failed int) {
	var wg sync.WaitGroup
	errs := make(chan error, n)
	start := time.Now()
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id, err := c.uploadBig(ctx, img, size)
			if err == nil {
				err = c.waitDone(ctx, id)
			}
			if err == nil {
				err = c.checkFiles(ctx, id)
			}
			if err == nil {
				_, _, err = c.do(ctx, "DELETE", "/v1/task/"+id, nil, nil)
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			failed++
			fmt.Printf("lost: %v\n", err)
		}
	}
	fmt.Printf("%d concurrent uploads of %d MiB in %.1f s: %d done, %d lost\n",
		n, size>>20, time.Since(start).Seconds(), n-failed, failed)
	return failed
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// uploadBig posts img padded with zeros to size bytes, asynchronously.
func (c *client) uploadBig(ctx context.Context, img []byte, size int64) (string, error) {
	var head bytes.Buffer
	mw := multipart.NewWriter(&head)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="fileobject"; filename="big.jpg"`)
	h.Set("Content-Type", "image/jpeg")
	mw.CreatePart(h)
	head.Write(img)
	var tail bytes.Buffer
	tailW := multipart.NewWriter(&tail)
	tailW.SetBoundary(mw.Boundary())
	tailW.Close()
	pad := max(0, size-int64(len(img)))
	body := io.MultiReader(&head, io.LimitReader(zeros{}, pad), &tail)
	req, err := http.NewRequestWithContext(ctx, "POST", c.base+"/v1/file?license-plate=True&face=True", body)
	if err != nil {
		return "", err
	}
	req.ContentLength = int64(head.Len()) + pad + int64(tail.Len())
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("X-Is-Async", "true")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return "", fmt.Errorf("POST /v1/file: %s %s", resp.Status, b)
	}
	var r struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(b, &r); err != nil || r.ID == "" {
		return "", fmt.Errorf("POST /v1/file: %v %s", err, b)
	}
	return r.ID, nil
}

// peakRSS returns the peak resident set size of process pid ("self" for
// this one), VmHWM of /proc/PID/status, in bytes.
func peakRSS(pid string) (int64, error) {
	f, err := os.Open("/proc/" + pid + "/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("/proc/%s/status: no VmHWM", pid)
}
