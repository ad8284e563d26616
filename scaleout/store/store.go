// Package store is where scale-out work items put their outputs: a folder (a local
// disk, or a ReadWriteMany volume that every pod mounts) or an S3 bucket, or any
// S3-compatible store (MinIO, Ceph RGW, …), named by a URL:
//
//	file:///shared/run1              a folder (created if missing); a plain path works too
//	s3://bucket/prefix               AWS S3; credentials from the environment
//	                                 (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, MINIO_*,
//	                                 ~/.aws/credentials, then the instance's IAM role)
//	s3://bucket/prefix?endpoint=http://minio:9000&region=us-east-1
//	                                 an S3-compatible server; path-style addressing is
//	                                 the default with an endpoint (use_path_style=false
//	                                 turns it off)
//
// The S3 side is github.com/minio/minio-go/v7; the folder side is the os package with
// checkpoint.WriteFileAtomic, the project's atomic write. gocloud.dev/blob (fileblob +
// s3blob over aws-sdk-go-v2) was tried first — one API for both — and dropped for its
// weight: it made the static temper binary 29 MB larger (aws-sdk-go-v2 with its STS, SSO
// and IMDS clients, gRPC and OpenTelemetry come with it), where minio-go adds 6 MB
// (measured: a program importing only the store, 2026-12-06; docs/DESIGN.md). minio-go
// speaks S3 only, and the folder backend is 60 lines of os calls.
//
// Guarantees the scale-out protocol relies on: an object written by Put or PutFile
// appears whole or not at all (an S3 PUT or completed multipart upload is atomic; a
// folder write is a temporary file renamed into place), and a reader never sees a
// partial object. There is no compare-and-swap: two writers of one key both succeed and
// the last one wins, so the protocol only ever writes a key from one attempt (attempt
// folders are unique) or writes interchangeable contents (DONE markers of equal
// outputs).
package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/temperml/temper/checkpoint"
	"github.com/temperml/temper/internal/fsafe"
)

// ErrNotExist is wrapped by the error of Get and GetFile for a key that is not there.
var ErrNotExist = errors.New("no such object")

// MaxGet bounds the size of an object read whole by Get (markers, plans, metrics); model
// files go through GetFile, which streams.
const MaxGet = 256 << 20

// Store is an opened store. Keys are slash-separated paths relative to the store's URL.
type Store struct {
	url string
	b   backend
}

// backend is a folder or a bucket; keys are checked by Store.
type backend interface {
	put(ctx context.Context, key string, r io.Reader, size int64) error
	get(ctx context.Context, key string) (io.ReadCloser, error) // a missing key: fs.ErrNotExist
	exists(ctx context.Context, key string) (bool, error)
	list(ctx context.Context, prefix string) ([]string, error)
}

// URL returns the URL the store was opened with.
func (s *Store) URL() string { return s.url }

// Close releases the store's connections.
func (s *Store) Close() error { return nil }

// Location is a parsed store URL.
type Location struct {
	// Scheme is "file" or "s3".
	Scheme string
	// Dir is the folder of a file store (absolute).
	Dir string
	// Bucket and Prefix ("" or ending in "/") of an s3 store; Query its parameters.
	Bucket, Prefix string
	Query          url.Values
}

// ParseURL parses a store URL (see the package comment) without opening anything.
func ParseURL(raw string) (Location, error) {
	if strings.TrimSpace(raw) == "" {
		return Location{}, fmt.Errorf("store: empty URL (want file:///DIR, a folder, or s3://BUCKET/PREFIX)")
	}
	if !strings.Contains(raw, "://") {
		abs, err := filepath.Abs(raw)
		if err != nil {
			return Location{}, fmt.Errorf("store: %q: %v", raw, err)
		}
		return Location{Scheme: "file", Dir: abs}, nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return Location{}, fmt.Errorf("store: %q is not a URL: %v", raw, err)
	}
	switch u.Scheme {
	case "file":
		if u.Host != "" && u.Host != "localhost" {
			return Location{}, fmt.Errorf("store: %q: a file URL names a local folder (file:///DIR), not host %q", raw, u.Host)
		}
		if u.RawQuery != "" {
			return Location{}, fmt.Errorf("store: %q: a file URL takes no parameters", raw)
		}
		if u.Path == "" {
			return Location{}, fmt.Errorf("store: %q: no folder (want file:///DIR)", raw)
		}
		return Location{Scheme: "file", Dir: filepath.Clean(filepath.FromSlash(u.Path))}, nil
	case "s3":
		if u.Host == "" {
			return Location{}, fmt.Errorf("store: %q: no bucket (want s3://BUCKET/PREFIX)", raw)
		}
		prefix := strings.Trim(u.Path, "/")
		if prefix != "" {
			prefix += "/"
		}
		if strings.Contains(prefix, "//") || strings.Contains("/"+prefix, "/../") || strings.Contains("/"+prefix, "/./") {
			return Location{}, fmt.Errorf("store: %q: prefix %q must be a clean path", raw, prefix)
		}
		q := u.Query()
		if q.Has("prefix") {
			return Location{}, fmt.Errorf("store: %q: give the prefix as the URL's path (s3://BUCKET/PREFIX), not as ?prefix=", raw)
		}
		return Location{Scheme: "s3", Bucket: u.Host, Prefix: prefix, Query: q}, nil
	}
	return Location{}, fmt.Errorf("store: %q: unknown scheme %q (want file or s3)", raw, u.Scheme)
}

// Open opens the store at raw (see ParseURL). A file store's folder is created if
// missing.
func Open(ctx context.Context, raw string) (*Store, error) {
	loc, err := ParseURL(raw)
	if err != nil {
		return nil, err
	}
	if loc.Scheme == "file" {
		if err := os.MkdirAll(loc.Dir, 0o755); err != nil {
			return nil, fmt.Errorf("store: opening %s: %w", raw, err)
		}
		return &Store{url: raw, b: fileBackend(loc.Dir)}, nil
	}
	b, err := openS3(loc)
	if err != nil {
		return nil, fmt.Errorf("store: opening %s: %w", raw, err)
	}
	return &Store{url: raw, b: b}, nil
}

// S3Params are the query parameters an s3:// URL may carry.
var S3Params = []string{"endpoint", "region", "use_path_style"}

func openS3(loc Location) (backend, error) {
	q := loc.Query
	for k := range q {
		if !slices.Contains(S3Params, k) {
			return nil, fmt.Errorf("unknown parameter %q (want %s)", k, strings.Join(S3Params, ", "))
		}
	}
	host, secure := "s3.amazonaws.com", true
	lookup := minio.BucketLookupAuto
	if ep := q.Get("endpoint"); ep != "" {
		u, err := url.Parse(ep)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			return nil, fmt.Errorf("endpoint %q: want http://HOST[:PORT] or https://HOST[:PORT]", ep)
		}
		host, secure, lookup = u.Host, u.Scheme == "https", minio.BucketLookupPath
	}
	switch q.Get("use_path_style") {
	case "":
	case "true":
		lookup = minio.BucketLookupPath
	case "false":
		lookup = minio.BucketLookupDNS
	default:
		return nil, fmt.Errorf("use_path_style %q: want true or false", q.Get("use_path_style"))
	}
	region := q.Get("region")
	if region == "" {
		region = os.Getenv("AWS_REGION")
	}
	if region == "" {
		region = os.Getenv("AWS_DEFAULT_REGION")
	}
	creds := credentials.NewChainCredentials([]credentials.Provider{
		&credentials.EnvAWS{}, &credentials.EnvMinio{}, &credentials.FileAWSCredentials{}, &credentials.IAM{}})
	c, err := minio.New(host, &minio.Options{Creds: creds, Secure: secure, Region: region, BucketLookup: lookup})
	if err != nil {
		return nil, err
	}
	return &s3Backend{c: c, bucket: loc.Bucket, prefix: loc.Prefix}, nil
}
func checkKey(key string) error {
	if key == "" || strings.HasPrefix(key, "/") || strings.HasSuffix(key, "/") || strings.Contains(key, "//") ||
		strings.Contains("/"+key+"/", "/../") || strings.Contains("/"+key+"/", "/./") {
		return fmt.Errorf("store: key %q must be a clean relative slash-separated path", key)
	}
	return nil
}

func (s *Store) wrap(op, key string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("store: %s %s in %s: %w", op, key, s.url, ErrNotExist)
	}
	return fmt.Errorf("store: %s %s in %s: %w", op, key, s.url, err)
}

// Put writes data to key; the object appears whole or not at all.
func (s *Store) Put(ctx context.Context, key string, data []byte) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if err := s.b.put(ctx, key, bytes.NewReader(data), int64(len(data))); err != nil {
		return s.wrap("writing", key, err)
	}
	return nil
}

// PutFile uploads the local file path to key; the object appears whole or not at all.
func (s *Store) PutFile(ctx context.Context, key, path string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	if err := s.b.put(ctx, key, f, st.Size()); err != nil {
		return s.wrap("writing", key, err)
	}
	return nil
}

// Get reads the object at key whole (at most MaxGet bytes). A missing key is an error
// wrapping ErrNotExist.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	r, err := s.b.get(ctx, key)
	if err != nil {
		return nil, s.wrap("reading", key, err)
	}
	defer r.Close()
	b, err := io.ReadAll(io.LimitReader(r, MaxGet+1))
	if err != nil {
		return nil, s.wrap("reading", key, err)
	}
	if len(b) > MaxGet {
		return nil, fmt.Errorf("store: reading %s in %s: larger than %d bytes (not a marker or plan)", key, s.url, MaxGet)
	}
	return b, nil
}

// GetFile downloads the object at key to the local file path, atomically
// (checkpoint.WriteFileAtomic). A missing key is an error wrapping ErrNotExist.
func (s *Store) GetFile(ctx context.Context, key, path string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	r, err := s.b.get(ctx, key)
	if err != nil {
		return s.wrap("reading", key, err)
	}
	defer r.Close()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	err = checkpoint.WriteFileAtomic(path, func(w io.Writer) error {
		_, err := io.Copy(w, r)
		return err
	})
	if err != nil {
		return s.wrap("downloading", key, err)
	}
	return nil
}

// Exists reports whether key holds an object.
func (s *Store) Exists(ctx context.Context, key string) (bool, error) {
	if err := checkKey(key); err != nil {
		return false, err
	}
	ok, err := s.b.exists(ctx, key)
	if err != nil {
		return false, s.wrap("looking up", key, err)
	}
	return ok, nil
}

// List returns the keys under prefix (a folder: "" or ending in "/"), recursively,
// sorted.
func (s *Store) List(ctx context.Context, prefix string) ([]string, error) {
	if prefix != "" && (!strings.HasSuffix(prefix, "/") || checkKey(strings.TrimSuffix(prefix, "/")) != nil) {
		return nil, fmt.Errorf("store: list prefix %q must be a clean folder path ending in /", prefix)
	}
	keys, err := s.b.list(ctx, prefix)
	if err != nil {
		return nil, s.wrap("listing", prefix, err)
	}
	sort.Strings(keys)
	return keys, nil
}

// fileBackend is a folder; writes go through checkpoint.WriteFileAtomic.
type fileBackend string

func (d fileBackend) path(key string) string {
	return filepath.Join(string(d), filepath.FromSlash(key))
}

func (d fileBackend) put(_ context.Context, key string, r io.Reader, _ int64) error {
	p := d.path(key)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return checkpoint.WriteFileAtomic(p, func(w io.Writer) error {
		_, err := io.Copy(w, r)
		return err
	})
}

func (d fileBackend) get(_ context.Context, key string) (io.ReadCloser, error) {
	f, err := os.Open(d.path(key))
	if err != nil {
		return nil, err
	}
	if st, err := f.Stat(); err != nil || st.IsDir() {
		f.Close()
		return nil, fs.ErrNotExist
	}
	return f, nil
}

func (d fileBackend) exists(_ context.Context, key string) (bool, error) {
	st, err := os.Stat(d.path(key))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return err == nil && !st.IsDir(), err
}

// list walks the folder; the temporary files of atomic writes (fsafe.IsTemp) are not
// objects.
func (d fileBackend) list(_ context.Context, prefix string) ([]string, error) {
	var keys []string
	root := d.path(strings.TrimSuffix(prefix, "/"))
	err := filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && p == root {
				return filepath.SkipDir
			}
			return err
		}
		if e.IsDir() || fsafe.IsTemp(e.Name()) {
			return nil
		}
		rel, err := filepath.Rel(string(d), p)
		if err != nil {
			return err
		}
		keys = append(keys, filepath.ToSlash(rel))
		return nil
	})
	return keys, err
}

// s3Backend is a bucket (and prefix) of an S3 server.
type s3Backend struct {
	c              *minio.Client
	bucket, prefix string
}

func s3err(err error) error {
	if code := minio.ToErrorResponse(err).Code; code == "NoSuchKey" || code == "NotFound" {
		return fmt.Errorf("%w (%v)", fs.ErrNotExist, err)
	}
	return err
}

func (b *s3Backend) put(ctx context.Context, key string, r io.Reader, size int64) error {
	_, err := b.c.PutObject(ctx, b.bucket, b.prefix+key, r, size, minio.PutObjectOptions{ContentType: "application/octet-stream"})
	return err
}

func (b *s3Backend) get(ctx context.Context, key string) (io.ReadCloser, error) {
	obj, err := b.c.GetObject(ctx, b.bucket, b.prefix+key, minio.GetObjectOptions{})
	if err != nil {
		return nil, s3err(err)
	}
	if _, err := obj.Stat(); err != nil { // GetObject is lazy: the request is made here
		obj.Close()
		return nil, s3err(err)
	}
	return obj, nil
}

func (b *s3Backend) exists(ctx context.Context, key string) (bool, error) {
	_, err := b.c.StatObject(ctx, b.bucket, b.prefix+key, minio.StatObjectOptions{})
	if err == nil {
		return true, nil
	}
	if err = s3err(err); errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return false, err
}

func (b *s3Backend) list(ctx context.Context, prefix string) ([]string, error) {
	var keys []string
	for obj := range b.c.ListObjects(ctx, b.bucket, minio.ListObjectsOptions{Prefix: b.prefix + prefix, Recursive: true}) {
		if obj.Err != nil {
			return nil, obj.Err
		}
		keys = append(keys, strings.TrimPrefix(obj.Key, b.prefix))
	}
	return keys, nil
}
