package server

import (
	"net/http"
	"net/url"
	"strings"
	"time"
)

// secretKeys are the query parameters whose values an access log line
// leaves out: the webhook, whose URL may carry a token, and its
// authentication header; the signatures of signed URLs (veil's own
// /blob/ URLs and S3's), which would let a reader of the log fetch the
// image.
var secretKeys = map[string]bool{
	"webhook": true, "webhook-auth-header-value": true, "web-auth-header-value": true,
	"signature": true, "x-amz-signature": true, "x-amz-credential": true, "x-amz-security-token": true,
}

// AccessLog is accessLog for the other handlers veil serve mounts beside
// the Server's (the Cloud API v2).
func AccessLog(logf func(format string, args ...any), next http.Handler) http.Handler {
	return accessLog(logf, next)
}

// accessLog logs one line per request through logf once it is answered:
// the client's address, the method, the path and query (the values of
// secretKeys replaced by REDACTED), the status, the bytes of the body
// sent and the time taken.
func accessLog(logf func(format string, args ...any), next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t0 := time.Now()
		lw := &logWriter{ResponseWriter: w}
		defer func() {
			code := lw.code
			if code == 0 {
				code = http.StatusOK
			}
			logf("%s %s %s %d %dB %v", r.RemoteAddr, r.Method, logTarget(r.URL), code, lw.n,
				time.Since(t0).Round(time.Microsecond))
		}()
		next.ServeHTTP(lw, r)
	})
}

// logTarget returns the path and query of u to log, the values of
// secretKeys replaced by REDACTED.
func logTarget(u *url.URL) string {
	target := u.EscapedPath()
	if u.RawQuery == "" {
		return target
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return target + "?(unparsable query)"
	}
	redacted := false
	for k, vs := range q {
		if secretKeys[strings.ToLower(k)] {
			for i := range vs {
				vs[i] = "REDACTED"
			}
			redacted = true
		}
	}
	if !redacted {
		return target + "?" + u.RawQuery
	}
	return target + "?" + q.Encode()
}

// logWriter is a ResponseWriter that keeps the status and counts the
// bytes of the body. Unwrap lets http.ResponseController reach the
// connection (the upload deadlines).
type logWriter struct {
	http.ResponseWriter
	code int
	n    int64
}

func (w *logWriter) WriteHeader(code int) {
	if w.code == 0 && code >= 200 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *logWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.n += int64(n)
	return n, err
}

func (w *logWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
