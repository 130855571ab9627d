package blobstore

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"gocloud.dev/blob/driver"
	"gocloud.dev/blob/fileblob"
)

// pathSigner is the fileblob.URLSigner of a local folder. Its URLs are
// base + "blob/" + key with the query of fileblob.URLSignerHMAC, whose MAC
// covers the key ("obj"), the expiry and the method.
type pathSigner struct {
	base   *url.URL
	secret []byte
}

var _ fileblob.URLSigner = (*pathSigner)(nil)

// URLFromKey implements fileblob.URLSigner.
func (p *pathSigner) URLFromKey(ctx context.Context, key string, opts *driver.SignedURLOptions) (*url.URL, error) {
	u := *p.base
	u.Path = strings.TrimSuffix(u.Path, "/") + "/blob/" + key
	u.RawPath = "" // String escapes Path
	return fileblob.NewURLSignerHMAC(&u, p.secret).URLFromKey(ctx, key, opts)
}

// KeyFromURL implements fileblob.URLSigner: it returns the key of a URL made
// by URLFromKey if the URL is authentic and unexpired. It does not look at
// the URL's path or method; Handler does.
func (p *pathSigner) KeyFromURL(ctx context.Context, u *url.URL) (string, error) {
	return fileblob.NewURLSignerHMAC(p.base, p.secret).KeyFromURL(ctx, u)
}

// Handler serves a local folder's signed URLs, requests whose path begins
// with /blob/ (mount it under http.StripPrefix where BaseURL has a path).
// GET (and HEAD) streams the object with its Content-Type and
// Content-Length; PUT stores the raw body, its Content-Type kept,
// atomically, and answers 200 with no body. A bad or expired signature, or a
// method the URL was not signed for, is 403 with a short plain-text reason;
// a body over Options.MaxPutBytes is 413, and nothing is stored.
//
// Handler is nil for s3, whose pre-signed URLs point at the bucket itself.
func (s *Store) Handler() http.Handler {
	if s.signer == nil {
		return nil
	}
	return http.HandlerFunc(s.serveBlob)
}

func (s *Store) serveBlob(w http.ResponseWriter, r *http.Request) {
	key, ok := strings.CutPrefix(r.URL.Path, "/blob/")
	if !ok {
		http.NotFound(w, r)
		return
	}
	if err := checkKey(key); err != nil {
		http.Error(w, "forbidden: invalid key", http.StatusForbidden)
		return
	}
	q := r.URL.Query()
	signed, err := s.signer.KeyFromURL(r.Context(), r.URL)
	if err != nil {
		if exp, err := strconv.ParseInt(q.Get("expiry"), 10, 64); err == nil && time.Now().Unix() > exp {
			http.Error(w, "forbidden: signed URL expired", http.StatusForbidden)
			return
		}
		http.Error(w, "forbidden: bad signature", http.StatusForbidden)
		return
	}
	if signed != key {
		http.Error(w, "forbidden: URL signed for another key", http.StatusForbidden)
		return
	}
	method := q.Get("method")
	if r.Method != method && !(r.Method == http.MethodHead && method == http.MethodGet) {
		http.Error(w, "forbidden: URL not signed for "+r.Method, http.StatusForbidden)
		return
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		s.serveGet(w, r, key)
	case http.MethodPut:
		s.servePut(w, r, key)
	default:
		w.Header().Set("Allow", "GET, HEAD, PUT")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

func (s *Store) serveGet(w http.ResponseWriter, r *http.Request, key string) {
	rd, err := s.b.NewReader(r.Context(), key, nil)
	if err != nil {
		if errors.Is(wrap(err, key), ErrNotExist) {
			http.Error(w, "not found", http.StatusNotFound)
			return
		}
		http.Error(w, "cannot read object", http.StatusInternalServerError)
		return
	}
	defer rd.Close()
	h := w.Header()
	ct := rd.ContentType()
	if ct == "" {
		ct = "application/octet-stream"
	}
	h.Set("Content-Type", ct)
	// The content comes from whoever uploaded it: never let a browser run
	// it as a page of veil's origin.
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "sandbox")
	http.ServeContent(w, r, "", rd.ModTime(), rd)
}

func (s *Store) servePut(w http.ResponseWriter, r *http.Request, key string) {
	max := s.opt.MaxPutBytes
	if r.ContentLength > max {
		http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
		return
	}
	body := http.MaxBytesReader(w, r.Body, max)
	if err := s.put(r.Context(), key, body, r.Header.Get("Content-Type")); err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
			return
		}
		if r.Context().Err() != nil {
			return // the client went away
		}
		http.Error(w, "cannot store object", http.StatusInternalServerError)
		return
	}
	if s.opt.OnPut != nil {
		s.opt.OnPut(key)
	}
	w.WriteHeader(http.StatusOK)
}
