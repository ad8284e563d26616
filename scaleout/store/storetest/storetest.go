// Package storetest runs an in-process fake S3 server (github.com/johannesboyne/gofakes3
// over net/http/httptest) for tests of code that talks to a store: no network, no
// credentials, nothing outside the test process except the loopback connection.
package storetest

import (
	"net/http/httptest"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// FakeS3 starts a fake S3 server holding an empty bucket and returns its store URL,
// s3://BUCKET/PREFIX?endpoint=http://127.0.0.1:PORT&region=us-east-1. It sets the AWS
// environment variables the SDK reads (dummy static credentials, no shared config, no
// instance metadata lookups) for the rest of the test; Env returns them for child
// processes. The server stops when the test ends.
func FakeS3(t testing.TB, bucket, prefix string) string {
	t.Helper()
	be := s3mem.New()
	if err := be.CreateBucket(bucket); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gofakes3.New(be).Server())
	t.Cleanup(srv.Close)
	for _, kv := range Env() {
		t.Setenv(kv[0], kv[1])
	}
	u := "s3://" + bucket
	if prefix != "" {
		u += "/" + prefix
	}
	return u + "?endpoint=" + srv.URL + "&region=us-east-1"
}

// Env is the AWS environment FakeS3 sets, as name/value pairs.
func Env() [][2]string {
	return [][2]string{
		{"AWS_ACCESS_KEY_ID", "fake"}, {"AWS_SECRET_ACCESS_KEY", "fake"}, {"AWS_SESSION_TOKEN", ""},
		{"AWS_EC2_METADATA_DISABLED", "true"}, {"AWS_CONFIG_FILE", "/dev/null"}, {"AWS_SHARED_CREDENTIALS_FILE", "/dev/null"},
		{"AWS_PROFILE", ""}, {"AWS_REGION", "us-east-1"},
	}
}
