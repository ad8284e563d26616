package spec

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Range is an interval of finite numbers: [Lo, Hi], with either end excluded when open.
// An infinite bound means unbounded on that side.
type Range struct {
	Lo, Hi         float64
	LoOpen, HiOpen bool
}

// Finite is every finite number.
var Finite = Range{Lo: math.Inf(-1), Hi: math.Inf(1)}

// Closed is [lo, hi].
func Closed(lo, hi float64) Range { return Range{Lo: lo, Hi: hi} }

// OpenClosed is (lo, hi].
func OpenClosed(lo, hi float64) Range { return Range{Lo: lo, Hi: hi, LoOpen: true} }

// AtLeast is [lo, +inf).
func AtLeast(lo float64) Range { return Range{Lo: lo, Hi: math.Inf(1)} }

// Contains reports whether v is finite and in r.
func (r Range) Contains(v float64) bool {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return false
	}
	return (v > r.Lo || !r.LoOpen && v == r.Lo) && (v < r.Hi || !r.HiOpen && v == r.Hi)
}

// String writes r as "(0, 1]" or "[0, +inf)".
func (r Range) String() string {
	lo, hi := "[", "]"
	if r.LoOpen || math.IsInf(r.Lo, -1) {
		lo = "("
	}
	if r.HiOpen || math.IsInf(r.Hi, 1) {
		hi = ")"
	}
	return lo + bound(r.Lo) + ", " + bound(r.Hi) + hi
}

func bound(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+inf"
	case math.IsInf(v, -1):
		return "-inf"
	}
	return Bound(v)
}

// want describes the numbers r holds, for messages.
func (r Range) want() string {
	if math.IsInf(r.Lo, -1) && math.IsInf(r.Hi, 1) {
		return "a finite number"
	}
	return "a number in " + r.String()
}

// Opts hands out one term's options as typed values. Each getter marks its option used,
// and records the key as one the term takes (for Finish's message). The first error is
// kept and later ones are dropped, so a builder can read every option and check Err once.
type Opts struct {
	s     *Scanner
	t     *Term
	used  []bool
	takes []string
	err   *Error
}

// Opts returns a reader of t's options.
func (s *Scanner) Opts(t *Term) *Opts { return &Opts{s: s, t: t, used: make([]bool, len(t.Opts))} }

// Term returns the term being read.
func (r *Opts) Term() *Term { return r.t }

// Err returns the first error recorded, or nil.
func (r *Opts) Err() *Error { return r.err }

func (r *Opts) fail(pos, end int, format string, args ...any) {
	if r.err == nil {
		r.err = r.s.Errorf(pos, end, format, args...)
	}
}

// Fail records an error at option o (key and value).
func (r *Opts) Fail(o *Option, format string, args ...any) { r.fail(o.Pos, o.End, format, args...) }

// FailAt records an error at the fragment [pos, end) of the spec.
func (r *Opts) FailAt(pos, end int, format string, args ...any) { r.fail(pos, end, format, args...) }

// FailValue records an error at o's value (at its key when it has none).
func (r *Opts) FailValue(o *Option, format string, args ...any) {
	if !o.HasVal {
		r.Fail(o, format, args...)
		return
	}
	r.fail(o.ValPos, o.End, format, args...)
}

// FailTerm records an error at the whole term.
func (r *Opts) FailTerm(format string, args ...any) { r.fail(r.t.Pos, r.t.End, format, args...) }

// FailName records an error at the term's name.
func (r *Opts) FailName(format string, args ...any) { r.fail(r.t.Pos, r.t.NameEnd, format, args...) }

func (r *Opts) lookup(key string) *Option {
	for i, o := range r.t.Opts {
		if o.Key == key {
			r.used[i] = true
			return o
		}
	}
	return nil
}

// Get returns the option key (nil if absent) and marks it used.
func (r *Opts) Get(key string) *Option {
	found := false
	for _, k := range r.takes {
		found = found || k == key
	}
	if !found {
		r.takes = append(r.takes, key)
	}
	return r.lookup(key)
}

// Has reports whether option key is given (and marks it used).
func (r *Opts) Has(key string) bool { return r.Get(key) != nil }

// Forbid records an error if option key is given: `key does not apply: why`. It does not
// count key among the options the term takes.
func (r *Opts) Forbid(key, why string) {
	if o := r.lookup(key); o != nil {
		r.Fail(o, "%s does not apply: %s", key, why)
	}
}

// Need records an error at the term when option key is absent:
// `name needs key=what`.
func (r *Opts) Need(key, what string) {
	if !r.Has(key) {
		r.FailTerm("%s needs %s=%s", r.t.Name, key, what)
	}
}

// value returns option key's value, or ok false (with def to use) when it is absent, has
// no value (an error) or an earlier error was recorded.
func (r *Opts) value(key, want string) (o *Option, ok bool) {
	o = r.Get(key)
	if o == nil || r.err != nil {
		return o, false
	}
	if !o.HasVal {
		r.Fail(o, "want %s for %s, got no value (write %s=...)", want, key, key)
		return o, false
	}
	return o, true
}

// Float returns option key as a number in rng, def when absent.
func (r *Opts) Float(key string, def float64, rng Range) float64 {
	o, ok := r.value(key, rng.want())
	if !ok {
		return def
	}
	v, err := strconv.ParseFloat(o.Val, 64)
	if err != nil || !rng.Contains(v) {
		r.FailValue(o, "want %s for %s, got %q", rng.want(), key, o.Val)
		return def
	}
	return v
}

// Int returns option key as an integer in [lo, hi], def when absent. With the syntax's
// IntFloats, integral floats (1e3) are integers too.
func (r *Opts) Int(key string, def, lo, hi int) int {
	want := fmt.Sprintf("an integer in [%s, %s]", Bound(float64(lo)), Bound(float64(hi)))
	o, ok := r.value(key, want)
	if !ok {
		return def
	}
	v, ok := ParseInt(o.Val, lo, hi, r.s.syn.IntFloats)
	if !ok {
		r.FailValue(o, "want %s for %s, got %q", want, key, o.Val)
		return def
	}
	return v
}

// Choice returns option key's value, which must be one of allowed; allowed[0] when
// absent. With the syntax's Fold the match ignores case and the result is lowercase.
func (r *Opts) Choice(key string, allowed ...string) string {
	want := "one of " + strings.Join(allowed, "|")
	o, ok := r.value(key, want)
	if !ok {
		return allowed[0]
	}
	v := r.s.fold(o.Val)
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	r.FailValue(o, "want %s for %s, got %q", want, key, o.Val)
	return allowed[0]
}

// Flag reports whether flag key is set: given alone, or as key=1|true|yes (key=0|false|no
// clears it).
func (r *Opts) Flag(key string) bool {
	o := r.Get(key)
	if o == nil || !o.HasVal {
		return o != nil
	}
	switch r.s.fold(o.Val) {
	case "1", "true", "yes":
		return true
	case "0", "false", "no":
		return false
	}
	r.FailValue(o, "want %s alone (a flag) or %s=true|false, got %q", key, key, o.Val)
	return false
}

// Finish returns the first error recorded, else an error for the first option no getter
// asked for: `name has no option "k" (it takes a, b, c)`. It returns nil when all is well.
func (r *Opts) Finish() *Error {
	if r.err != nil {
		return r.err
	}
	for i, o := range r.t.Opts {
		if !r.used[i] {
			takes := "no options"
			if len(r.takes) > 0 {
				takes = "it takes " + strings.Join(r.takes, ", ")
			}
			r.Fail(o, "%s has no option %q (%s)", r.t.Name, o.Key, takes)
			return r.err
		}
	}
	return nil
}
