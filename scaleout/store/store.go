// Package store is where scale-out work items put their outputs: a folder (a local
// disk, or a ReadWriteMany volume that every pod mounts) or an S3 bucket, or any
// S3-compatible store (MinIO, Ceph RGW, …), named by a URL:
//
//	file:///shared/run1              a folder (created if missing); a plain path works too
//	s3://bucket/prefix               AWS S3, credentials and region from the environment
//	s3://bucket/prefix?endpoint=http://minio:9000&region=us-east-1
//	                                 an S3-compatible server; path-style addressing is
//	                                 the default with an endpoint (use_path_style=false
//	                                 turns it off)
//
// Every other query parameter of an s3:// URL is passed to gocloud.dev's s3blob opener
// (e.g. disable_https, anonymous, profile; see gocloud.dev/aws.V2ConfigFromURLParams).
//
// The store is built on gocloud.dev/blob (fileblob and s3blob over aws-sdk-go-v2), not
// minio-go: one API for both kinds of store, a folder backend whose writes are atomic
// (a temporary file renamed into place on Close), and the same code path exercised by
// the tests on a folder and on an in-process fake S3 server (gofakes3). minio-go would
// have been the smaller S3 client, but a second, hand-written folder backend with its
// own atomicity rules next to it is what this package avoids.
//
// Guarantees the scale-out protocol relies on: an object written by Put or PutFile
// appears whole or not at all (S3 PUTs are atomic; fileblob renames a complete temporary
// file), and a reader never sees a partial object. There is no compare-and-swap: two
// writers of one key both succeed and the last one wins, so the protocol only ever
// writes a key from one attempt (attempt folders are unique) or writes interchangeable
// contents (DONE markers of equal outputs).
package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"gocloud.dev/blob"
	"gocloud.dev/blob/fileblob"
	"gocloud.dev/blob/s3blob"
	"gocloud.dev/gcerrors"

	"github.com/temperml/temper/checkpoint"
)

// ErrNotExist is wrapped by the error of Get and GetFile for a key that is not there.
var ErrNotExist = errors.New("no such object")

// MaxGet bounds the size of an object read whole by Get (markers, plans, metrics); model
// files go through GetFile, which streams.
const MaxGet = 256 << 20

// Store is an opened store. Keys are slash-separated paths relative to the store's URL.
type Store struct {
	url    string
	bucket *blob.Bucket
}

// URL returns the URL the store was opened with.
func (s *Store) URL() string { return s.url }

// Close releases the store's connections.
func (s *Store) Close() error { return s.bucket.Close() }

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
	var b *blob.Bucket
	switch loc.Scheme {
	case "file":
		b, err = fileblob.OpenBucket(loc.Dir, &fileblob.Options{CreateDir: true, NoTempDir: true, Metadata: fileblob.MetadataDontWrite})
	case "s3":
		q := url.Values{}
		for k, v := range loc.Query {
			q[k] = v
		}
		if q.Get("endpoint") != "" && !q.Has("use_path_style") {
			q.Set("use_path_style", "true")
		}
		if q.Get("region") == "" && os.Getenv("AWS_REGION") == "" && os.Getenv("AWS_DEFAULT_REGION") == "" {
			q.Set("region", "us-east-1")
		}
		u := url.URL{Scheme: "s3", Host: loc.Bucket, RawQuery: q.Encode()}
		b, err = blob.OpenBucket(ctx, u.String())
		if err == nil && loc.Prefix != "" {
			b = blob.PrefixedBucket(b, loc.Prefix)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("store: opening %s: %w", raw, err)
	}
	return &Store{url: raw, bucket: b}, nil
}

// s3blob registers the s3 scheme with blob.OpenBucket by being imported.
var _ = s3blob.Scheme

func checkKey(key string) error {
	if key == "" || strings.HasPrefix(key, "/") || strings.HasSuffix(key, "/") || strings.Contains(key, "//") ||
		strings.Contains("/"+key+"/", "/../") || strings.Contains("/"+key+"/", "/./") {
		return fmt.Errorf("store: key %q must be a clean relative slash-separated path", key)
	}
	return nil
}

func (s *Store) wrap(op, key string, err error) error {
	if gcerrors.Code(err) == gcerrors.NotFound {
		return fmt.Errorf("store: %s %s in %s: %w", op, key, s.url, ErrNotExist)
	}
	return fmt.Errorf("store: %s %s in %s: %w", op, key, s.url, err)
}

// Put writes data to key; the object appears whole or not at all.
func (s *Store) Put(ctx context.Context, key string, data []byte) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if err := s.bucket.WriteAll(ctx, key, data, &blob.WriterOptions{ContentType: "application/octet-stream"}); err != nil {
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
	if err := s.bucket.Upload(ctx, key, f, &blob.WriterOptions{ContentType: "application/octet-stream"}); err != nil {
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
	r, err := s.bucket.NewReader(ctx, key, nil)
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
	r, err := s.bucket.NewReader(ctx, key, nil)
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
	ok, err := s.bucket.Exists(ctx, key)
	if err != nil {
		return false, s.wrap("looking up", key, err)
	}
	return ok, nil
}

// List returns the keys under prefix (a folder: "" or ending in "/"), recursively,
// sorted.
func (s *Store) List(ctx context.Context, prefix string) ([]string, error) {
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		return nil, fmt.Errorf("store: list prefix %q must end in /", prefix)
	}
	var keys []string
	it := s.bucket.List(&blob.ListOptions{Prefix: prefix})
	for {
		obj, err := it.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, s.wrap("listing", prefix, err)
		}
		if !obj.IsDir {
			keys = append(keys, obj.Key)
		}
	}
	sort.Strings(keys)
	return keys, nil
}
