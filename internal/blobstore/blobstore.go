// Package blobstore is the object store of veil's Cloud API v2: where uploads
// and results are kept, in a local folder or an S3-compatible bucket, through
// gocloud.dev/blob.
//
// Clients move the bytes themselves through signed URLs: S3's own pre-signed
// URLs for a bucket, or URLs signed by veil and served by Store.Handler for a
// local folder.
//
// A key is one or more segments separated by "/", like "tasks/12/original".
// No segment may be empty or begin with "."; a key may not contain a
// backslash or a control character, nor end in ".attrs" or in ".HEX.tmp" (the
// names of fileblob's side files and temporary files).
package blobstore

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"gocloud.dev/blob"
	"gocloud.dev/blob/fileblob"
	_ "gocloud.dev/blob/s3blob" // registers s3:// with blob.OpenBucket
	"gocloud.dev/gcerrors"
)

// ErrNotExist is wrapped by the error of Attributes and NewReader for a key
// that holds no object.
var ErrNotExist = errors.New("blobstore: object does not exist")

// DefaultMaxPutBytes bounds the body of a PUT to a local signed URL when
// Options.MaxPutBytes is 0.
const DefaultMaxPutBytes = 512 << 20

// secretName is the file, inside a local folder, that holds the key with
// which every Store on that folder signs and checks URLs.
const secretName = ".veil-url-secret"

const secretLen = 32

// Options configures Open.
type Options struct {
	// BaseURL is veil's own public URL (e.g. "http://127.0.0.1:7000/"); a
	// local folder's signed URLs are BaseURL + "blob/" + key + "?..." and are
	// served by Handler. Required for a local folder, unused for s3.
	BaseURL string

	// MaxPutBytes bounds the body of a PUT to a local signed URL
	// (0: DefaultMaxPutBytes); a larger body is refused with 413 and nothing
	// is kept.
	MaxPutBytes int64

	// OnPut, when set, is called after a PUT through Handler stored key
	// completely.
	OnPut func(key string)
}

// Attrs are the attributes of a stored object.
type Attrs struct {
	Size        int64
	ContentType string
	ModTime     time.Time
}

// Store is a bucket of objects: a local folder or an S3-compatible bucket.
// Its methods may be called from several goroutines at once.
type Store struct {
	b      *blob.Bucket
	dir    string      // the local folder, absolute; "" for s3
	signer *pathSigner // local folder only
	opt    Options
}

// Open opens a bucket URL: a plain directory path or file:///abs/dir is a
// local folder (gocloud's fileblob, created if absent);
// s3://bucket?endpoint=http://127.0.0.1:PORT&region=us-east-1&use_path_style=true
// (gocloud's s3blob URL; credentials from the usual AWS environment
// variables) is an S3-compatible bucket.
//
// A local folder keeps the secret that signs its URLs in the file
// .veil-url-secret inside it, created on first use, so that every veil
// process using the folder accepts the URLs of the others.
func Open(ctx context.Context, bucketURL string, opt Options) (*Store, error) {
	if opt.MaxPutBytes == 0 {
		opt.MaxPutBytes = DefaultMaxPutBytes
	}
	if !strings.Contains(bucketURL, "://") {
		return openDir(bucketURL, opt)
	}
	u, err := url.Parse(bucketURL)
	if err != nil {
		return nil, fmt.Errorf("blobstore: %w", err)
	}
	switch u.Scheme {
	case "file":
		if u.Host != "" && u.Host != "localhost" {
			return nil, fmt.Errorf("blobstore: %s: a file URL names a local path, not host %q", bucketURL, u.Host)
		}
		if u.RawQuery != "" {
			return nil, fmt.Errorf("blobstore: %s: file URLs take no options", bucketURL)
		}
		return openDir(filepath.FromSlash(u.Path), opt)
	case "s3":
		b, err := blob.OpenBucket(ctx, bucketURL)
		if err != nil {
			return nil, fmt.Errorf("blobstore: %w", err)
		}
		return &Store{b: b, opt: opt}, nil
	}
	return nil, fmt.Errorf("blobstore: %s: unsupported scheme %q (want a path, file:// or s3://)", bucketURL, u.Scheme)
}

func openDir(dir string, opt Options) (*Store, error) {
	if dir == "" {
		return nil, errors.New("blobstore: empty folder path")
	}
	if opt.BaseURL == "" {
		return nil, errors.New("blobstore: Options.BaseURL is required for a local folder")
	}
	base, err := url.Parse(opt.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("blobstore: BaseURL: %w", err)
	}
	if !base.IsAbs() || base.Host == "" {
		return nil, fmt.Errorf("blobstore: BaseURL %q is not an absolute URL", opt.BaseURL)
	}
	dir, err = filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("blobstore: %w", err)
	}
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return nil, fmt.Errorf("blobstore: %w", err)
	}
	secret, err := loadSecret(filepath.Join(dir, secretName))
	if err != nil {
		return nil, fmt.Errorf("blobstore: %w", err)
	}
	signer := &pathSigner{base: base, secret: secret}
	b, err := fileblob.OpenBucket(dir, &fileblob.Options{
		URLSigner: signer,
		CreateDir: true,
		// Temporary files next to their object, so that the final rename
		// never crosses file systems.
		NoTempDir: true,
	})
	if err != nil {
		return nil, fmt.Errorf("blobstore: %w", err)
	}
	return &Store{b: b, dir: dir, signer: signer, opt: opt}, nil
}

// loadSecret reads the signing secret at name, creating it if absent. It is
// created with O_EXCL, so two processes racing to create it agree on one;
// a file shorter than secretLen is one being written, and is read again.
func loadSecret(name string) ([]byte, error) {
	for try := 0; ; try++ {
		b, err := os.ReadFile(name)
		switch {
		case err == nil && len(b) == secretLen:
			return b, nil
		case err == nil && len(b) < secretLen && try < 100:
			time.Sleep(10 * time.Millisecond)
			continue
		case err == nil:
			return nil, fmt.Errorf("%s: %d bytes, want %d", name, len(b), secretLen)
		case !errors.Is(err, fs.ErrNotExist):
			return nil, err
		}
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		secret := make([]byte, secretLen)
		rand.Read(secret)
		_, err = f.Write(secret)
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(name)
			return nil, err
		}
		return secret, nil
	}
}

// checkKey reports whether key is one this package stores; see the package
// documentation.
func checkKey(key string) error {
	if err := checkName(key); err != nil {
		return err
	}
	if strings.HasSuffix(key, "/") {
		return fmt.Errorf("blobstore: invalid key %q: ends in /", key)
	}
	return nil
}

// checkName is checkKey, except that name may end in "/" (a prefix).
func checkName(name string) error {
	bad := func(why string) error {
		return fmt.Errorf("blobstore: invalid key %q: %s", name, why)
	}
	switch {
	case name == "":
		return bad("empty")
	case len(name) > 1024:
		return bad("longer than 1024 bytes")
	case !utf8.ValidString(name):
		return bad("not UTF-8")
	case strings.HasPrefix(name, "/"):
		return bad("begins with /")
	case strings.ContainsRune(name, '\\'):
		return bad("contains a backslash")
	case strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return bad("contains a control character")
	case strings.HasSuffix(name, ".attrs"):
		return bad("ends in .attrs")
	case isTempName(name):
		return bad("has the name of a temporary file")
	}
	segs := strings.Split(name, "/")
	if segs[len(segs)-1] == "" {
		segs = segs[:len(segs)-1] // a prefix's trailing slash
	}
	for _, s := range segs {
		if s == "" {
			return bad("has an empty segment")
		}
		if s[0] == '.' {
			return bad("has a segment beginning with .")
		}
	}
	return nil
}

// isTempName reports whether name ends like a fileblob temporary file:
// ".HEX.tmp".
func isTempName(name string) bool {
	rest, ok := strings.CutSuffix(name, ".tmp")
	if !ok {
		return false
	}
	i := strings.LastIndexByte(rest, '.')
	if i < 0 || i == len(rest)-1 {
		return false
	}
	for _, c := range rest[i+1:] {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// wrap turns gocloud's not-found error into one that wraps ErrNotExist.
func wrap(err error, key string) error {
	if err == nil {
		return nil
	}
	if gcerrors.Code(err) == gcerrors.NotFound {
		return fmt.Errorf("%w: %s: %v", ErrNotExist, key, err)
	}
	return fmt.Errorf("blobstore: %s: %w", key, err)
}

// Put stores the content of r as key, replacing any object there. It is
// atomic: a reader sees the old object or the whole new one, never half of
// one; if reading r or writing fails, nothing is stored. An empty
// contentType is detected from the content.
func (s *Store) Put(ctx context.Context, key string, r io.Reader, contentType string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	return s.put(ctx, key, r, contentType)
}

func (s *Store) put(ctx context.Context, key string, r io.Reader, contentType string) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w, err := s.b.NewWriter(ctx, key, &blob.WriterOptions{ContentType: contentType})
	if err != nil {
		return wrap(err, key)
	}
	if _, err := io.Copy(w, r); err != nil {
		cancel() // aborts the write: Close keeps nothing
		w.Close()
		return fmt.Errorf("blobstore: %s: %w", key, err)
	}
	return wrap(w.Close(), key)
}

// NewReader returns a reader of the object stored as key; the error wraps
// ErrNotExist where there is none.
func (s *Store) NewReader(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	r, err := s.b.NewReader(ctx, key, nil)
	if err != nil {
		return nil, wrap(err, key)
	}
	return r, nil
}

// Attributes returns the attributes of the object stored as key; the error
// wraps ErrNotExist where there is none.
func (s *Store) Attributes(ctx context.Context, key string) (Attrs, error) {
	if err := checkKey(key); err != nil {
		return Attrs{}, err
	}
	a, err := s.b.Attributes(ctx, key)
	if err != nil {
		return Attrs{}, wrap(err, key)
	}
	return Attrs{Size: a.Size, ContentType: a.ContentType, ModTime: a.ModTime}, nil
}

// Delete deletes the object stored as key. A missing key is not an error.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	err := s.b.Delete(ctx, key)
	if gcerrors.Code(err) == gcerrors.NotFound {
		return nil
	}
	return wrap(err, key)
}

// DeletePrefix deletes every object whose key begins with prefix; end it
// with "/" to delete a "folder" ("tasks/12/" and not "tasks/123/x"). An empty
// prefix is refused, so as not to empty the store by mistake. In a local
// folder it also removes the directories left empty under prefix, and the
// temporary files of uploads cut short.
func (s *Store) DeletePrefix(ctx context.Context, prefix string) error {
	if err := checkName(prefix); err != nil {
		return err
	}
	it := s.b.List(&blob.ListOptions{Prefix: prefix})
	var errs []error
	for {
		obj, err := it.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("blobstore: listing %s: %w", prefix, err)
		}
		if hidden(obj.Key) {
			continue
		}
		if err := s.b.Delete(ctx, obj.Key); err != nil && gcerrors.Code(err) != gcerrors.NotFound {
			errs = append(errs, wrap(err, obj.Key))
		}
	}
	if s.dir != "" {
		s.removeEmptyDirs(prefix)
	}
	return errors.Join(errs...)
}

// hidden reports whether a listed key is one of this package's own files
// (the URL secret), which DeletePrefix leaves alone.
func hidden(key string) bool {
	for s := range strings.SplitSeq(key, "/") {
		if strings.HasPrefix(s, ".") {
			return true
		}
	}
	return false
}

// removeEmptyDirs removes, deepest first, the directories of the local folder
// under prefix that are empty; failures (a directory not empty) are ignored.
func (s *Store) removeEmptyDirs(prefix string) {
	i := strings.LastIndexByte(prefix, '/')
	if i < 0 {
		return
	}
	root := filepath.Join(s.dir, filepath.FromSlash(prefix[:i]))
	if root == s.dir {
		return
	}
	var dirs []string
	filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			dirs = append(dirs, path)
		}
		return nil
	})
	for i := len(dirs) - 1; i >= 0; i-- {
		os.Remove(dirs[i])
	}
}

// SignedURL returns a URL that lets anyone GET (download) or PUT (upload,
// the raw body, as with S3) key until expiry: S3's own pre-signed URL for
// s3 (clients then talk to the bucket directly), or a URL signed by veil for
// a local folder, BaseURL + "blob/" + key + "?...", served by Handler.
func (s *Store) SignedURL(ctx context.Context, key, method string, expiry time.Duration) (string, error) {
	if err := checkKey(key); err != nil {
		return "", err
	}
	if method != http.MethodGet && method != http.MethodPut {
		return "", fmt.Errorf("blobstore: SignedURL: method %q, want GET or PUT", method)
	}
	if expiry <= 0 {
		return "", fmt.Errorf("blobstore: SignedURL: expiry %v, want > 0", expiry)
	}
	u, err := s.b.SignedURL(ctx, key, &blob.SignedURLOptions{Method: method, Expiry: expiry})
	if err != nil {
		return "", fmt.Errorf("blobstore: SignedURL %s: %w", key, err)
	}
	return u, nil
}

// Close releases the store's resources.
func (s *Store) Close() error {
	return s.b.Close()
}
