package data

import (
	"errors"
	"slices"
	"testing"

	"github.com/temperml/temper/rng"
)

// toySet returns n examples of shape [2, 3]; example i is filled with the value i and has
// label i%classes.
func toySet(t testing.TB, n, classes int) *InMemory {
	t.Helper()
	x := make([]float32, n*6)
	y := make([]int, n)
	for i := range n {
		for j := range 6 {
			x[i*6+j] = float32(i)
		}
		y[i] = i % classes
	}
	d, err := NewInMemory(x, y, []int{2, 3}, classes)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

type epochRecord struct {
	order []int     // example ids in delivery order
	sizes []int     // batch sizes
	first []float32 // first value of each example after the transform
}

// runEpoch runs one epoch and checks each batch's internal consistency.
func runEpoch(t *testing.T, l *Loader) epochRecord {
	t.Helper()
	var rec epochRecord
	l.Start()
	for want := 0; ; want++ {
		b, ok := l.Next()
		if !ok {
			if want != l.BatchesPerEpoch() {
				t.Fatalf("epoch ended after %d batches, want %d", want, l.BatchesPerEpoch())
			}
			return rec
		}
		if b.Index != want {
			t.Fatalf("batch index %d, want %d", b.Index, want)
		}
		shape := b.X.Shape()
		if !equalInts(shape, []int{b.N, 2, 3}) || len(b.Y) != b.N || len(b.Indices) != b.N {
			t.Fatalf("batch shape %v, %d labels, %d indices for N=%d", shape, len(b.Y), len(b.Indices), b.N)
		}
		data := b.X.Data()
		for k := range b.N {
			id := b.Indices[k]
			if b.Y[k] != id%l.Dataset().Classes() {
				t.Fatalf("label %d for example %d", b.Y[k], id)
			}
			rec.order = append(rec.order, id)
			rec.first = append(rec.first, data[k*6])
		}
		rec.sizes = append(rec.sizes, b.N)
	}
}

func TestLoaderCoversEpoch(t *testing.T) {
	for _, tc := range []struct {
		name    string
		n       int
		cfg     LoaderConfig
		batches int
		last    int
	}{
		{"exact", 12, LoaderConfig{BatchSize: 4}, 3, 4},
		{"partial", 10, LoaderConfig{BatchSize: 4}, 3, 2},
		{"droplast", 10, LoaderConfig{BatchSize: 4, DropLast: true}, 2, 4},
		{"shuffle partial", 10, LoaderConfig{BatchSize: 3, Shuffle: true, Workers: 3, Prefetch: 1}, 4, 1},
		{"shuffle droplast", 10, LoaderConfig{BatchSize: 3, Shuffle: true, DropLast: true}, 3, 3},
		{"one big batch", 7, LoaderConfig{BatchSize: 100}, 1, 7},
		{"default size", 300, LoaderConfig{}, 3, 44},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, err := NewLoader(toySet(t, tc.n, 5), tc.cfg, rng.New(1))
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			if l.BatchesPerEpoch() != tc.batches {
				t.Fatalf("BatchesPerEpoch = %d, want %d", l.BatchesPerEpoch(), tc.batches)
			}
			for epoch := range 3 {
				rec := runEpoch(t, l)
				if len(rec.sizes) != tc.batches || rec.sizes[len(rec.sizes)-1] != tc.last {
					t.Fatalf("epoch %d: batch sizes %v, want %d batches, last %d", epoch, rec.sizes, tc.batches, tc.last)
				}
				seen := map[int]int{}
				for _, id := range rec.order {
					seen[id]++
				}
				if len(rec.order) != l.ExamplesPerEpoch() || len(seen) != len(rec.order) {
					t.Fatalf("epoch %d: %d examples, %d distinct, want %d distinct", epoch, len(rec.order), len(seen), l.ExamplesPerEpoch())
				}
				if !tc.cfg.DropLast && len(seen) != tc.n {
					t.Fatalf("epoch %d: saw %d of %d examples", epoch, len(seen), tc.n)
				}
				for k, id := range rec.order {
					if rec.first[k] != float32(id) {
						t.Fatalf("example %d holds value %v", id, rec.first[k])
					}
				}
				if !tc.cfg.Shuffle && !slices.IsSorted(rec.order) {
					t.Fatalf("unshuffled order %v", rec.order)
				}
			}
		})
	}
}

// addNoise is a Transform adding one random value per example.
func addNoise(x []float32, shape []int, r *rng.Stream) {
	v := r.Float32()
	for i := range x {
		x[i] += v
	}
}

func epochs(t *testing.T, seed uint64, cfg LoaderConfig, n int) []epochRecord {
	l, err := NewLoader(toySet(t, 50, 10), cfg, rng.New(seed))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var recs []epochRecord
	for range n {
		recs = append(recs, runEpoch(t, l))
	}
	return recs
}

func TestLoaderDeterminism(t *testing.T) {
	base := LoaderConfig{BatchSize: 8, Shuffle: true, Transform: addNoise}
	ref := epochs(t, 7, base, 3)
	if slices.Equal(ref[0].order, ref[1].order) || slices.Equal(ref[1].order, ref[2].order) {
		t.Errorf("epochs repeat the same order: %v", ref[0].order)
	}
	if slices.Equal(ref[0].first, ref[1].first) {
		t.Errorf("epochs repeat the same transform values")
	}
	if other := epochs(t, 8, base, 1); slices.Equal(other[0].order, ref[0].order) {
		t.Errorf("seeds 7 and 8 give the same order")
	}
	for _, cfg := range []LoaderConfig{
		{BatchSize: 8, Shuffle: true, Transform: addNoise},
		{BatchSize: 8, Shuffle: true, Transform: addNoise, Workers: 4},
		{BatchSize: 8, Shuffle: true, Transform: addNoise, Workers: 3, Prefetch: 6},
		{BatchSize: 8, Shuffle: true, Transform: addNoise, Workers: 2, Prefetch: 1},
	} {
		got := epochs(t, 7, cfg, 3)
		for e := range got {
			if !slices.Equal(got[e].order, ref[e].order) || !slices.Equal(got[e].first, ref[e].first) {
				t.Errorf("workers=%d prefetch=%d epoch %d differs from the reference run", cfg.Workers, cfg.Prefetch, e)
			}
		}
	}
	// The order does not depend on whether a Transform is set.
	plain := epochs(t, 7, LoaderConfig{BatchSize: 8, Shuffle: true}, 3)
	for e := range plain {
		if !slices.Equal(plain[e].order, ref[e].order) {
			t.Errorf("epoch %d: order changes with a Transform", e)
		}
	}
}

// TestLoaderResume checks that saving the stream between epochs and restoring it into a
// fresh loader reproduces the following epochs.
func TestLoaderResume(t *testing.T) {
	cfg := LoaderConfig{BatchSize: 8, Shuffle: true, Transform: addNoise, Workers: 2}
	ref := epochs(t, 3, cfg, 3)

	r := rng.New(3)
	l, err := NewLoader(toySet(t, 50, 10), cfg, r)
	if err != nil {
		t.Fatal(err)
	}
	runEpoch(t, l)
	l.Close()
	state, err := r.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	r2 := rng.New(0)
	if err := r2.UnmarshalBinary(state); err != nil {
		t.Fatal(err)
	}
	l2, err := NewLoader(toySet(t, 50, 10), cfg, r2)
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Close()
	for e := 1; e < 3; e++ {
		got := runEpoch(t, l2)
		if !slices.Equal(got.order, ref[e].order) || !slices.Equal(got.first, ref[e].first) {
			t.Errorf("resumed epoch %d differs", e)
		}
	}
}

func TestLoaderStopMidEpoch(t *testing.T) {
	l, err := NewLoader(toySet(t, 100, 10), LoaderConfig{BatchSize: 4, Shuffle: true, Workers: 3, Prefetch: 4}, rng.New(1))
	if err != nil {
		t.Fatal(err)
	}
	l.Start()
	for range 3 {
		if _, ok := l.Next(); !ok {
			t.Fatal("epoch ended early")
		}
	}
	// Restart mid-epoch, then break out of a range loop, then close mid-epoch.
	rec := runEpoch(t, l)
	if len(rec.order) != 100 {
		t.Fatalf("restarted epoch delivered %d examples, want 100", len(rec.order))
	}
	count := 0
	for b := range l.Batches() {
		count += b.N
		if count >= 20 {
			break
		}
	}
	count = 0
	for b := range l.Batches() {
		count += b.N
	}
	if count != 100 {
		t.Fatalf("Batches delivered %d examples, want 100", count)
	}
	l.Start()
	l.Next()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l.Close()
	l.Start()
	if _, ok := l.Next(); ok {
		t.Fatal("Next after Close returned a batch")
	}
}

func TestLoaderNextWithoutStart(t *testing.T) {
	l, err := NewLoader(toySet(t, 10, 2), LoaderConfig{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := l.Next(); ok {
		t.Fatal("Next before Start returned a batch")
	}
	runEpoch(t, l)
	if _, ok := l.Next(); ok {
		t.Fatal("Next after the epoch end returned a batch")
	}
}

func TestLoaderConfigErrors(t *testing.T) {
	ds := toySet(t, 10, 2)
	for _, tc := range []struct {
		name string
		ds   Dataset
		cfg  LoaderConfig
		r    *rng.Stream
	}{
		{"negative batch", ds, LoaderConfig{BatchSize: -1}, nil},
		{"negative prefetch", ds, LoaderConfig{Prefetch: -1}, nil},
		{"negative workers", ds, LoaderConfig{Workers: -2}, nil},
		{"shuffle without rng", ds, LoaderConfig{Shuffle: true}, nil},
		{"transform without rng", ds, LoaderConfig{Transform: addNoise}, nil},
		{"no batches", ds, LoaderConfig{BatchSize: 11, DropLast: true}, nil},
		{"empty", toySet(t, 0, 2), LoaderConfig{}, nil},
		{"nil dataset", nil, LoaderConfig{}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := NewLoader(tc.ds, tc.cfg, tc.r); !errors.Is(err, ErrInvalid) {
				t.Errorf("got %v, want ErrInvalid", err)
			}
		})
	}
}

func TestLoaderAllocs(t *testing.T) {
	for _, workers := range []int{1, 2} {
		l, err := NewLoader(toySet(t, 64, 10), LoaderConfig{BatchSize: 2, Shuffle: true, Workers: workers}, rng.New(1))
		if err != nil {
			t.Fatal(err)
		}
		l.Start()
		allocs := testing.AllocsPerRun(20, func() {
			if _, ok := l.Next(); !ok {
				t.Fatal("epoch ended early")
			}
		})
		l.Close()
		if allocs > 0 {
			t.Errorf("workers=%d: %v allocations per batch, want 0", workers, allocs)
		}
	}
}

func TestInMemory(t *testing.T) {
	d := toySet(t, 10, 3)
	sub, err := d.Subset([]int{7, 2, 2})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := sub.Y, []int{1, 2, 2}; !slices.Equal(got, want) || sub.X[0] != 7 || sub.X[6] != 2 {
		t.Errorf("Subset: labels %v first %v, want %v and 7", got, sub.X[0], want)
	}
	if _, err := d.Subset([]int{10}); !errors.Is(err, ErrInvalid) {
		t.Errorf("Subset out of range: got %v", err)
	}
	h, err := d.Head(4)
	if err != nil || h.Len() != 4 || len(h.X) != 24 {
		t.Errorf("Head(4): %v, len %d", err, h.Len())
	}
	if h, _ := d.Head(99); h.Len() != 10 {
		t.Errorf("Head(99) has %d examples, want 10", h.Len())
	}
	if _, err := d.Head(-1); !errors.Is(err, ErrInvalid) {
		t.Errorf("Head(-1): got %v", err)
	}
	x, y := d.Tensor(3, 5)
	if !equalInts(x.Shape(), []int{2, 2, 3}) || !slices.Equal(y, []int{0, 1}) || x.At(1, 0, 0) != 4 {
		t.Errorf("Tensor(3,5): shape %v labels %v", x.Shape(), y)
	}
	for _, tc := range []struct {
		name    string
		x       []float32
		y       []int
		shape   []int
		classes int
	}{
		{"no shape", nil, nil, nil, 2},
		{"zero dim", nil, nil, []int{0}, 2},
		{"classes", nil, nil, []int{1}, 0},
		{"length", []float32{1, 2}, []int{0}, []int{1}, 2},
		{"label", []float32{1}, []int{2}, []int{1}, 2},
	} {
		if _, err := NewInMemory(tc.x, tc.y, tc.shape, tc.classes); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: got %v, want ErrInvalid", tc.name, err)
		}
	}
}

func BenchmarkLoaderMNISTShape(b *testing.B) {
	n := 60000
	d, _ := NewInMemory(make([]float32, n*784), make([]int, n), []int{1, 28, 28}, 10)
	l, err := NewLoader(d, LoaderConfig{Shuffle: true, Workers: 2}, rng.New(1))
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	b.ReportAllocs()
	l.Start()
	for b.Loop() {
		if _, ok := l.Next(); !ok {
			l.Start()
		}
	}
}

// TestLoaderStreamsSpec pins how the loader consumes its stream: Start shuffles with it
// and splits the epoch stream; batch b's Transform stream is the b-th Split of the epoch
// stream, used by the examples of the batch in order.
func TestLoaderStreamsSpec(t *testing.T) {
	if !reseedWorks() {
		t.Error("the allocation-free stream derivation is disabled on this toolchain")
	}
	const n, bs = 20, 6
	l, err := NewLoader(toySet(t, n, 10), LoaderConfig{BatchSize: bs, Shuffle: true, Transform: addNoise, Workers: 2}, rng.New(99))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	r := rng.New(99)
	for epoch := range 2 {
		got := runEpoch(t, l)
		perm := make([]int, n)
		for i := range perm {
			perm[i] = i
		}
		r.Shuffle(perm)
		es := r.Split()
		var want []float32
		for b := 0; b < n; b += bs {
			bsr := es.Split()
			for _, id := range perm[b:min(b+bs, n)] {
				want = append(want, float32(id)+bsr.Float32())
			}
		}
		if !slices.Equal(got.order, perm) || !slices.Equal(got.first, want) {
			t.Fatalf("epoch %d: got order %v values %v, want %v %v", epoch, got.order, got.first, perm, want)
		}
	}
}

func TestLoaderAllocsWithTransform(t *testing.T) {
	l, err := NewLoader(toySet(t, 64, 10), LoaderConfig{BatchSize: 2, Shuffle: true, Workers: 2, Transform: addNoise}, rng.New(1))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	l.Start()
	allocs := testing.AllocsPerRun(20, func() {
		if _, ok := l.Next(); !ok {
			t.Fatal("epoch ended early")
		}
	})
	if allocs > 0 {
		t.Errorf("%v allocations per batch, want 0", allocs)
	}
}
