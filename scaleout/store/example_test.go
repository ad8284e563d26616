package store_test

import (
	"context"
	"fmt"
	"os"

	"github.com/temperml/temper/scaleout/store"
)

// A folder store; an s3://bucket/prefix?endpoint=... URL opens an S3 store with the
// same methods.
func ExampleOpen() {
	dir, _ := os.MkdirTemp("", "store-example-")
	defer os.RemoveAll(dir)
	ctx := context.Background()
	st, err := store.Open(ctx, "file://"+dir)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer st.Close()
	st.Put(ctx, "items/0/DONE.json", []byte(`{}`))
	st.Put(ctx, "items/1/attempt-a/model.safetensors", []byte("weights"))
	keys, _ := st.List(ctx, "items/")
	fmt.Println(keys)
	_, err = st.Get(ctx, "items/2/DONE.json")
	fmt.Println(err != nil)
	// Output:
	// [items/0/DONE.json items/1/attempt-a/model.safetensors]
	// true
}
