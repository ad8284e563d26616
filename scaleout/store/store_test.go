package store_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/temperml/temper/scaleout/store"
	"github.com/temperml/temper/scaleout/store/storetest"
)

// stores returns a file store and an S3 store (fake, in process) to run each test on.
func stores(t *testing.T) map[string]string {
	return map[string]string{
		"file": "file://" + filepath.ToSlash(filepath.Join(t.TempDir(), "store")),
		"s3":   storetest.FakeS3(t, "temper", "runs/one"),
	}
}

func TestPutGetListExists(t *testing.T) {
	ctx := context.Background()
	for kind, u := range stores(t) {
		t.Run(kind, func(t *testing.T) {
			s, err := store.Open(ctx, u)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if _, err := s.Get(ctx, "items/0/DONE.json"); !errors.Is(err, store.ErrNotExist) {
				t.Fatalf("Get of a missing key: %v, want ErrNotExist", err)
			}
			if ok, err := s.Exists(ctx, "items/0/DONE.json"); err != nil || ok {
				t.Fatalf("Exists of a missing key: %v %v", ok, err)
			}
			if err := s.Put(ctx, "items/0/DONE.json", []byte(`{"a":1}`)); err != nil {
				t.Fatal(err)
			}
			if err := s.Put(ctx, "items/1/attempt-x/model.safetensors", []byte("weights")); err != nil {
				t.Fatal(err)
			}
			b, err := s.Get(ctx, "items/0/DONE.json")
			if err != nil || string(b) != `{"a":1}` {
				t.Fatalf("Get = %q, %v", b, err)
			}
			if ok, err := s.Exists(ctx, "items/0/DONE.json"); err != nil || !ok {
				t.Fatalf("Exists = %v %v", ok, err)
			}
			keys, err := s.List(ctx, "items/")
			if err != nil {
				t.Fatal(err)
			}
			if want := []string{"items/0/DONE.json", "items/1/attempt-x/model.safetensors"}; !slices.Equal(keys, want) {
				t.Fatalf("List = %v, want %v", keys, want)
			}
			local := filepath.Join(t.TempDir(), "sub", "m.safetensors")
			if err := s.GetFile(ctx, "items/1/attempt-x/model.safetensors", local); err != nil {
				t.Fatal(err)
			}
			if got, _ := os.ReadFile(local); string(got) != "weights" {
				t.Fatalf("GetFile wrote %q", got)
			}
			up := filepath.Join(t.TempDir(), "up")
			os.WriteFile(up, []byte("uploaded"), 0o644)
			if err := s.PutFile(ctx, "items/2/x", up); err != nil {
				t.Fatal(err)
			}
			if b, _ := s.Get(ctx, "items/2/x"); string(b) != "uploaded" {
				t.Fatalf("PutFile stored %q", b)
			}
			if err := s.GetFile(ctx, "nope", local); !errors.Is(err, store.ErrNotExist) {
				t.Fatalf("GetFile of a missing key: %v", err)
			}
		})
	}
}

// Concurrent writers of one key: every reader sees one writer's whole object.
func TestConcurrentPutsAreWhole(t *testing.T) {
	ctx := context.Background()
	for kind, u := range stores(t) {
		t.Run(kind, func(t *testing.T) {
			s, err := store.Open(ctx, u)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			vals := []string{strings.Repeat("a", 1<<16), strings.Repeat("b", 1<<16)}
			var wg sync.WaitGroup
			for i := range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if err := s.Put(ctx, "k", []byte(vals[i%2])); err != nil {
						t.Error(err)
					}
				}()
			}
			wg.Wait()
			b, err := s.Get(ctx, "k")
			if err != nil || !slices.Contains(vals, string(b)) {
				t.Fatalf("after concurrent puts: %d bytes, %v", len(b), err)
			}
		})
	}
}

func TestParseURL(t *testing.T) {
	good := map[string]store.Location{
		"file:///data/run":    {Scheme: "file", Dir: "/data/run"},
		"s3://b":              {Scheme: "s3", Bucket: "b"},
		"s3://b/p/q/":         {Scheme: "s3", Bucket: "b", Prefix: "p/q/"},
		"s3://b/p?endpoint=x": {Scheme: "s3", Bucket: "b", Prefix: "p/"},
	}
	for in, want := range good {
		got, err := store.ParseURL(in)
		if err != nil {
			t.Errorf("ParseURL(%q): %v", in, err)
			continue
		}
		if got.Scheme != want.Scheme || got.Dir != want.Dir || got.Bucket != want.Bucket || got.Prefix != want.Prefix {
			t.Errorf("ParseURL(%q) = %+v, want %+v", in, got, want)
		}
	}
	for _, in := range []string{"", "gs://b", "s3://", "file://host/x", "s3://b/a/../c", "s3://b/p?prefix=x", "file:///x?y=1", "://"} {
		if _, err := store.ParseURL(in); err == nil {
			t.Errorf("ParseURL(%q): no error", in)
		} else if strings.Contains(err.Error(), "\n") || !strings.HasPrefix(err.Error(), "store: ") {
			t.Errorf("ParseURL(%q): error %q is not one store: line", in, err)
		}
	}
}

func TestBadKeys(t *testing.T) {
	s, err := store.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, k := range []string{"", "/abs", "a/../b", "a//b", "dir/"} {
		if err := s.Put(context.Background(), k, nil); err == nil {
			t.Errorf("Put(%q): no error", k)
		}
	}
}

func FuzzParseURL(f *testing.F) {
	for _, s := range []string{"file:///x", "s3://b/p?endpoint=http://h:1", "rel/dir", "s3://b/../x", "%zz://"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		loc, err := store.ParseURL(s)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("multi-line error %q", err)
			}
			return
		}
		if loc.Scheme == "s3" && (loc.Bucket == "" || strings.Contains(loc.Prefix, "//")) {
			t.Fatalf("ParseURL(%q) = %+v", s, loc)
		}
	})
}
