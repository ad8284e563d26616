package data

import (
	"encoding/binary"
	"iter"
	"sync"

	"github.com/temperml/temper/rng"
	"github.com/temperml/temper/tensor"
)

// LoaderConfig configures a Loader. The zero value is valid: batches of 128 in dataset
// order, the last partial batch kept, two batches prefetched by one worker.
type LoaderConfig struct {
	// BatchSize is the number of examples per batch; 0 means 128.
	BatchSize int
	// Shuffle draws a new random order of the examples at each Start.
	Shuffle bool
	// DropLast drops the last batch of an epoch if it has fewer than BatchSize examples.
	DropLast bool
	// Prefetch is how many batches are prepared ahead of the one in use; 0 means 2.
	Prefetch int
	// Workers is the number of goroutines filling batches; 0 means 1. Batches are always
	// delivered in order and their content does not depend on Workers.
	Workers int
	// Transform, if set, is applied in place to each example after it is copied into the
	// batch, inside the workers (data augmentation). shape is the example shape and must
	// not be modified. r is the batch's own stream: each batch gets one, derived in order
	// from the epoch's stream, and the examples of a batch are transformed in order, so the
	// result is deterministic given the Loader's stream whatever the number of workers.
	// r is valid only during the call (its storage is reused for a later batch).
	Transform func(x []float32, shape []int, r *rng.Stream)
}

// Batch is one batch of examples. It is owned by the Loader and valid only until the
// following call of Next (or Start, or Close): its buffers are then recycled. Copy what
// must outlive that.
type Batch struct {
	X       *tensor.Tensor // examples, shaped [N, shape...]
	Y       []int          // labels, len N
	N       int            // number of examples (BatchSize except maybe the last batch)
	Index   int            // position of the batch in the epoch, from 0
	Indices []int          // dataset indices of the examples, len N
}

// Loader delivers a dataset in batches. Call Start at the beginning of each epoch, then
// Next until it reports false (or range over Batches, which does both). Batches are
// prepared in the background by Workers goroutines, at most Prefetch ahead, never past the
// end of the epoch. Steady-state iteration allocates nothing (unless the Transform does).
//
// The Loader's methods must be called from one goroutine. The stream given to NewLoader is
// used only inside Start: with Shuffle, Start permutes the examples with it, then it
// splits one epoch stream from it (the source of the per-batch Transform streams). So the
// order of every epoch is a function of the stream's state at Start, which is what a
// resumed run needs to save.
type Loader struct {
	ds      Dataset
	cfg     LoaderConfig
	r       *rng.Stream
	shape   []int
	size    int
	n       int // examples used per epoch
	batches int
	perm    []int
	slots   []*slot
	free    chan *slot

	// Per epoch.
	order   chan *slot
	jobs    chan *slot
	cancel  chan struct{}
	wg      sync.WaitGroup
	running bool
	cur     *slot
	closed  bool
}

type slot struct {
	x     []float32
	y     []int
	full  *tensor.Tensor // view of x shaped [BatchSize, shape...]
	part  *tensor.Tensor // view of x shaped [last, shape...] for a partial last batch
	batch Batch
	ready chan struct{}

	idx    []int
	index  int
	stream *rng.Stream
	state  [20]byte // scratch for splitInto
}

// splitInto sets s.stream to es.Split() without allocating when the stream's state
// encoding is the known one (checked once by reseedWorks); otherwise it calls Split.
func splitInto(s *slot, es *rng.Stream) {
	if !reseedWorks() {
		s.stream = es.Split()
		return
	}
	if s.stream == nil {
		s.stream = rng.New(0)
	}
	a, b := es.Uint64(), es.Uint64() // exactly what Split draws
	st := pcgState(&s.state, a, b)
	if err := s.stream.UnmarshalBinary(st); err != nil {
		panic("data: reseeding a checked stream failed: " + err.Error()) // unreachable: reseedWorks verified the format
	}
}

// pcgState encodes the state of math/rand/v2.NewPCG(a, b) as PCG.MarshalBinary does.
func pcgState(buf *[20]byte, a, b uint64) []byte {
	copy(buf[:4], "pcg:")
	binary.BigEndian.PutUint64(buf[4:], a)
	binary.BigEndian.PutUint64(buf[12:], b)
	return buf[:]
}

// reseedWorks reports whether restoring pcgState(a, b) into a stream reproduces Split: a
// probe compares the two on a few draws, so a change of the encoding only costs the
// allocation-free path, never determinism.
var reseedWorks = sync.OnceValue(func() bool {
	p1, p2 := rng.New(12345), rng.New(12345)
	child := p1.Split()
	var buf [20]byte
	re := rng.New(0)
	if re.UnmarshalBinary(pcgState(&buf, p2.Uint64(), p2.Uint64())) != nil {
		return false
	}
	for range 8 {
		if child.Uint64() != re.Uint64() {
			return false
		}
	}
	return p1.Uint64() == p2.Uint64()
})

// NewLoader returns a loader over ds. r may be nil only if cfg.Shuffle is false and
// cfg.Transform is nil. Negative config values, an empty dataset or an epoch of zero
// batches (DropLast with BatchSize > Len) are errors.
func NewLoader(ds Dataset, cfg LoaderConfig, r *rng.Stream) (*Loader, error) {
	if ds == nil {
		return nil, invalid("NewLoader", "nil dataset")
	}
	if cfg.BatchSize < 0 {
		return nil, invalid("NewLoader", "batch size %d, want >= 1 (0 means 128)", cfg.BatchSize)
	}
	if cfg.Prefetch < 0 {
		return nil, invalid("NewLoader", "prefetch %d, want >= 1 (0 means 2)", cfg.Prefetch)
	}
	if cfg.Workers < 0 {
		return nil, invalid("NewLoader", "workers %d, want >= 1 (0 means 1)", cfg.Workers)
	}
	if cfg.BatchSize == 0 {
		cfg.BatchSize = 128
	}
	if cfg.Prefetch == 0 {
		cfg.Prefetch = 2
	}
	if cfg.Workers == 0 {
		cfg.Workers = 1
	}
	if r == nil && (cfg.Shuffle || cfg.Transform != nil) {
		return nil, invalid("NewLoader", "nil random stream with Shuffle or Transform")
	}
	n := ds.Len()
	if n <= 0 {
		return nil, invalid("NewLoader", "empty dataset")
	}
	shape := append([]int(nil), ds.Shape()...)
	size := tensor.NumElements(shape)
	if len(shape) == 0 || size <= 0 {
		return nil, invalid("NewLoader", "example shape %v has no elements", shape)
	}
	bs := cfg.BatchSize
	batches := n / bs
	last := n % bs
	if cfg.DropLast {
		last = 0
	} else if last > 0 {
		batches++
	}
	if batches == 0 {
		return nil, invalid("NewLoader", "DropLast with batch size %d > %d examples leaves no batch", bs, n)
	}
	l := &Loader{ds: ds, cfg: cfg, r: r, shape: shape, size: size, batches: batches, perm: make([]int, n)}
	l.n = min(n, batches*bs)
	nslots := max(cfg.Prefetch, cfg.Workers) + 1
	nslots = min(nslots, batches+1)
	l.free = make(chan *slot, nslots)
	capacity := min(bs, n) // a batch size beyond the dataset needs no bigger buffers
	for range nslots {
		s := &slot{x: make([]float32, capacity*size), y: make([]int, capacity), ready: make(chan struct{}, 1)}
		if capacity == bs {
			s.full = tensor.FromSlice(s.x, append([]int{bs}, shape...)...)
		}
		if last > 0 {
			s.part = tensor.FromSlice(s.x[:last*size:last*size], append([]int{last}, shape...)...)
		}
		l.slots = append(l.slots, s)
		l.free <- s
	}
	return l, nil
}

// BatchesPerEpoch returns the number of batches in one epoch.
func (l *Loader) BatchesPerEpoch() int { return l.batches }

// ExamplesPerEpoch returns the number of examples delivered in one epoch (Len of the
// dataset, less the dropped partial batch with DropLast).
func (l *Loader) ExamplesPerEpoch() int { return l.n }

// BatchSize returns the configured batch size (after defaults).
func (l *Loader) BatchSize() int { return l.cfg.BatchSize }

// Dataset returns the dataset.
func (l *Loader) Dataset() Dataset { return l.ds }

// Start begins an epoch: it stops an epoch still running, draws the epoch's order (with
// Shuffle) and starts the background workers. After Close it does nothing.
func (l *Loader) Start() {
	l.stop()
	if l.closed {
		return
	}
	for i := range l.perm {
		l.perm[i] = i
	}
	var es *rng.Stream
	if l.r != nil {
		if l.cfg.Shuffle {
			l.r.Shuffle(l.perm)
		}
		es = l.r.Split()
	}
	nslots := len(l.slots)
	l.order = make(chan *slot, nslots)
	l.jobs = make(chan *slot, nslots)
	l.cancel = make(chan struct{})
	l.running = true
	l.wg.Add(1 + l.cfg.Workers)
	go l.produce(l.cancel, l.jobs, l.order, es)
	for range l.cfg.Workers {
		go l.work(l.cancel, l.jobs)
	}
}

func (l *Loader) produce(cancel <-chan struct{}, jobs, order chan<- *slot, es *rng.Stream) {
	defer l.wg.Done()
	defer close(order)
	defer close(jobs)
	bs := l.cfg.BatchSize
	for b := range l.batches {
		var s *slot
		select {
		case s = <-l.free:
		case <-cancel:
			return
		}
		s.idx = l.perm[b*bs : min((b+1)*bs, l.n)]
		s.index = b
		if l.cfg.Transform != nil {
			splitInto(s, es)
		}
		// Neither send blocks: at most len(l.slots) slots are out of the free list.
		jobs <- s
		order <- s
	}
}

func (l *Loader) work(cancel <-chan struct{}, jobs <-chan *slot) {
	defer l.wg.Done()
	for s := range jobs {
		select {
		case <-cancel:
		default:
			l.fill(s)
		}
		s.ready <- struct{}{}
	}
}

func (l *Loader) fill(s *slot) {
	n, size := len(s.idx), l.size
	for k, i := range s.idx {
		x := s.x[k*size : (k+1)*size : (k+1)*size]
		s.y[k] = l.ds.Get(i, x)
		if l.cfg.Transform != nil {
			l.cfg.Transform(x, l.shape, s.stream)
		}
	}
	t := s.full
	if n < l.cfg.BatchSize {
		t = s.part
	}
	s.batch = Batch{X: t, Y: s.y[:n:n], N: n, Index: s.index, Indices: s.idx}
}

// Next returns the next batch of the epoch, or false at the end of the epoch (or if no
// epoch was started). The previous batch becomes invalid.
func (l *Loader) Next() (*Batch, bool) {
	if l.cur != nil {
		l.free <- l.cur
		l.cur = nil
	}
	if !l.running {
		return nil, false
	}
	s, ok := <-l.order
	if !ok {
		l.wg.Wait()
		l.running = false
		return nil, false
	}
	<-s.ready
	l.cur = s
	return &s.batch, true
}

// Batches starts an epoch and yields its batches; breaking out of the loop stops the
// epoch. Each batch is valid only inside its loop iteration.
func (l *Loader) Batches() iter.Seq[*Batch] {
	return func(yield func(*Batch) bool) {
		l.Start()
		for {
			b, ok := l.Next()
			if !ok {
				return
			}
			if !yield(b) {
				l.stop()
				return
			}
		}
	}
}

// stop ends a running epoch and returns every slot to the free list.
func (l *Loader) stop() {
	if l.cur != nil {
		l.free <- l.cur
		l.cur = nil
	}
	if !l.running {
		return
	}
	close(l.cancel)
	l.wg.Wait()
	for s := range l.order {
		<-s.ready
		l.free <- s
	}
	l.running = false
}

// Close stops the epoch in progress and waits for the background goroutines to exit.
// Start does nothing after Close. Close may be called more than once.
func (l *Loader) Close() error {
	l.stop()
	l.closed = true
	return nil
}
