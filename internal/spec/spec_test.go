package spec

import (
	"math"
	"strings"
	"testing"
)

// words is a schedule-like syntax: blanks skipped, case folded, values with '/' and an
// exponent's '+'.
var words = &Syntax{
	Grammar: "test", Blank: true, Fold: true,
	Name: Word(""), Key: Word(""), Value: ExponentSign(Word("/")),
	IntFloats: true, NameWant: "a name",
}

// raw is an augment-like syntax: delimiters only, flags allowed, case kept.
var raw = &Syntax{
	Grammar: "raw", Name: Not(":+"), Key: Not("=,+"), Value: Not(",+"), Flags: true, NameWant: "an op",
}

// terms reads '+'-joined terms and renders them back as name[:k=v,...], or the error.
func terms(syn *Syntax, src string) (string, *Error) {
	s := syn.Scanner(src)
	var out []string
	for {
		t, err := s.Term()
		if err != nil {
			return "", err
		}
		var opts []string
		for _, o := range t.Opts {
			if src[o.Pos:o.Pos+len(o.Key)] != o.Key && !syn.Fold {
				return "", s.Errorf(o.Pos, o.End, "bad key position")
			}
			kv := o.Key
			if o.HasVal {
				kv += "=" + o.Val
			}
			opts = append(opts, kv)
		}
		out = append(out, t.Name+":"+strings.Join(opts, ","))
		if !s.Accept('+') {
			break
		}
	}
	if !s.AtEnd() {
		return "", s.Unexpected("'+' or the end")
	}
	return strings.Join(out, " + "), nil
}

func TestTerms(t *testing.T) {
	tests := []struct {
		syn  *Syntax
		src  string
		want string
	}{
		{words, "cosine", "cosine:"},
		{words, " Warmup : Steps = 10 , start=0.5 + cosine:tmax=1e+3", "warmup:steps=10,start=0.5 + cosine:tmax=1e+3"},
		{words, "multistep:milestones=30/60", "multistep:milestones=30/60"},
		{words, "a:x=1e+5+b", "a:x=1e+5 + b:"},
		{words, "a:x=e+5", "a:x=e + 5:"}, // no digit before the exponent: '+' separates
		{words, "a:x=1e+b", "a:x=1e + b:"},
		{raw, "flip:h,v,p=0.3+crop:pad=4", "flip:h,v,p=0.3 + crop:pad=4"},
		{raw, "Flip: h", "Flip: h"},
		{raw, "crop:mode=a:b=c", "crop:mode=a:b=c"},
		{raw, "flip,h", "flip,h:"},
	}
	for _, tc := range tests {
		got, err := terms(tc.syn, tc.src)
		if err != nil || got != tc.want {
			t.Errorf("%s %q: got %q, %v; want %q", tc.syn.Grammar, tc.src, got, err, tc.want)
		}
	}
}

func TestTermErrors(t *testing.T) {
	tests := []struct {
		syn      *Syntax
		src      string
		pos      int
		fragment string
		msg      string
	}{
		{words, "", 0, "", "want a name, got the end of the spec"},
		{words, "a:", 2, "", "want an option name, got the end"},
		{words, "a:k", 3, "", `want "=" after option "k"`},
		{words, "a:k=", 4, "", `want a value for option "k"`},
		{words, "a:k=1,K=2", 6, "K=2", `option "k" given twice`},
		{words, "a:k=1;", 5, ";", `want '+' or the end, got ";"`},
		{words, "a:k=1 é", 6, "é", `got "é"`},
		{raw, "a++b", 2, "+", "want an op, got \"+\""},
		{raw, "a:h,", 4, "", "want an option name"},
		{raw, "a:=3", 2, "=", "want an option name, got \"=\""},
		{raw, "a:h,h", 4, "h", "given twice"},
	}
	for _, tc := range tests {
		_, err := terms(tc.syn, tc.src)
		if err == nil {
			t.Errorf("%q: no error", tc.src)
			continue
		}
		if err.Pos != tc.pos || err.Fragment() != tc.fragment || !strings.Contains(err.Msg, tc.msg) {
			t.Errorf("%q: pos %d fragment %q msg %q; want %d %q %q", tc.src, err.Pos, err.Fragment(), err.Msg, tc.pos, tc.fragment, tc.msg)
		}
	}
}

func TestErrorRendering(t *testing.T) {
	e := &Error{Grammar: "schedule", Spec: "cosine:warmup=x", Pos: 14, End: 15, Msg: `want a number for warmup, got "x"`}
	if got, want := e.Error(), `schedule "cosine:warmup=x": at column 15: want a number for warmup, got "x"`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if got, want := e.Caret(), "  cosine:warmup=x\n                ^"; got != want {
		t.Errorf("Caret() =\n%s\nwant\n%s", got, want)
	}
	end := &Error{Grammar: "g", Spec: "a:k=", Pos: 4, End: 4, Msg: "m"}
	if got, want := end.Error(), `g "a:k=": at column 5 (end of spec): m`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	for _, tc := range []struct {
		src      string
		pos, end int
		col      int
		caret    string
	}{
		{"abc", 0, 3, 1, "  abc\n  ^~~"},
		{"éa=x", 3, 4, 3, "  éa=x\n    ^"}, // é is two bytes, one column
		{"\tk=x", 1, 2, 2, "  \tk=x\n  \t^"},
		{"ab", 9, 12, 3, "  ab\n    ^"}, // clamped
	} {
		if got := Column(tc.src, tc.pos); got != tc.col {
			t.Errorf("Column(%q, %d) = %d, want %d", tc.src, tc.pos, got, tc.col)
		}
		if got := Caret(tc.src, tc.pos, tc.end); got != tc.caret {
			t.Errorf("Caret(%q, %d, %d) = %q, want %q", tc.src, tc.pos, tc.end, got, tc.caret)
		}
	}
}

func TestRange(t *testing.T) {
	tests := []struct {
		r    Range
		v    float64
		in   bool
		text string
	}{
		{OpenClosed(0, 1), 0, false, "(0, 1]"},
		{OpenClosed(0, 1), 1, true, "(0, 1]"},
		{Closed(0, 1), 0, true, "[0, 1]"},
		{Closed(0, 1), 1.5, false, "[0, 1]"},
		{AtLeast(0), 1e300, true, "[0, +inf)"},
		{AtLeast(0), math.Inf(1), false, "[0, +inf)"},
		{Finite, math.NaN(), false, "(-inf, +inf)"},
		{Finite, -1e300, true, "(-inf, +inf)"},
		{Range{Lo: 0, Hi: 1, HiOpen: true}, 1, false, "[0, 1)"},
		{Closed(0, 1<<20), 5, true, "[0, 2^20]"},
	}
	for _, tc := range tests {
		if got := tc.r.Contains(tc.v); got != tc.in {
			t.Errorf("%v.Contains(%v) = %v, want %v", tc.r, tc.v, got, tc.in)
		}
		if got := tc.r.String(); got != tc.text {
			t.Errorf("String() = %q, want %q", got, tc.text)
		}
	}
	for v, want := range map[float64]string{1000: "1000", 1024: "2^10", 1 << 40: "2^40", 0.5: "0.5", 3 << 20: "3.145728e+06"} {
		if got := Bound(v); got != want {
			t.Errorf("Bound(%v) = %q, want %q", v, got, want)
		}
	}
}

func TestParseInt(t *testing.T) {
	tests := []struct {
		s      string
		floats bool
		v      int
		ok     bool
	}{
		{"12", false, 12, true},
		{"-0", false, 0, true},
		{"1e3", false, 0, false},
		{"1e3", true, 1000, true},
		{"1.5", true, 0, false},
		{"nan", true, 0, false},
		{"1e400", true, 0, false},
		{"2000", true, 0, false}, // out of [0, 1024]
		{"-1", false, 0, false},
		{"99999999999999999999", true, 0, false},
		{"", true, 0, false},
	}
	for _, tc := range tests {
		v, ok := ParseInt(tc.s, 0, 1024, tc.floats)
		if ok != tc.ok || ok && v != tc.v {
			t.Errorf("ParseInt(%q, floats %v) = %d, %v; want %d, %v", tc.s, tc.floats, v, ok, tc.v, tc.ok)
		}
	}
}

// read parses one term of src and returns its reader.
func read(t *testing.T, syn *Syntax, src string) *Opts {
	t.Helper()
	s := syn.Scanner(src)
	term, err := s.Term()
	if err != nil {
		t.Fatalf("%q: %v", src, err)
	}
	return s.Opts(term)
}

func TestOptsValues(t *testing.T) {
	r := read(t, words, "op:a=0.25,n=1e2,m=Epoch,f=TRUE")
	if v := r.Float("a", 9, OpenClosed(0, 1)); v != 0.25 {
		t.Errorf("Float a = %v", v)
	}
	if v := r.Float("absent", 9, Finite); v != 9 {
		t.Errorf("Float absent = %v, want the default", v)
	}
	if v := r.Int("n", 0, 0, 1000); v != 100 {
		t.Errorf("Int n = %v", v)
	}
	if v := r.Choice("m", "batch", "epoch"); v != "epoch" {
		t.Errorf("Choice m = %q (folded)", v)
	}
	if v := r.Choice("absent2", "batch", "epoch"); v != "batch" {
		t.Errorf("Choice default = %q", v)
	}
	if !r.Flag("f") {
		t.Error("Flag f=TRUE is false")
	}
	if err := r.Finish(); err != nil {
		t.Errorf("Finish: %v", err)
	}

	r = read(t, raw, "flip:h,v=no,p=0.5")
	if !r.Flag("h") || r.Flag("v") || r.Flag("x") {
		t.Error("flags h, v=no, x: want true, false, false")
	}
	r.Need("p", "P")
	if err := r.Finish(); err != nil {
		t.Errorf("Finish: %v", err)
	}
}

func TestOptsErrors(t *testing.T) {
	tests := []struct {
		syn      *Syntax
		src      string
		read     func(r *Opts)
		fragment string
		msg      string
	}{
		{words, "op:a=x", func(r *Opts) { r.Float("a", 0, Finite) }, "x", `want a finite number for a, got "x"`},
		{words, "op:a=0", func(r *Opts) { r.Float("a", 0, OpenClosed(0, 1)) }, "0", `want a number in (0, 1] for a, got "0"`},
		{words, "op:n=1.5", func(r *Opts) { r.Int("n", 0, 0, 1<<20) }, "1.5", `want an integer in [0, 2^20] for n, got "1.5"`},
		{raw, "op:n=1e2", func(r *Opts) { r.Int("n", 0, 0, 1000) }, "1e2", "want an integer in [0, 1000]"},
		{raw, "op:n", func(r *Opts) { r.Int("n", 0, 0, 9) }, "n", "got no value (write n=...)"},
		{words, "op:m=week", func(r *Opts) { r.Choice("m", "epoch", "batch") }, "week", `want one of epoch|batch for m, got "week"`},
		{raw, "op:m=Epoch", func(r *Opts) { r.Choice("m", "epoch", "batch") }, "Epoch", "want one of epoch|batch"},
		{raw, "op:h=maybe", func(r *Opts) { r.Flag("h") }, "maybe", "want h alone (a flag)"},
		{words, "op:a=1,b=2", func(r *Opts) { r.Float("a", 0, Finite) }, "b=2", `op has no option "b" (it takes a)`},
		{words, "op:b=2", func(r *Opts) {}, "b=2", `op has no option "b" (no options)`},
		{words, "op:a=1", func(r *Opts) { r.Need("z", "N") }, "op:a=1", "op needs z=N"},
		{words, "op:every=1", func(r *Opts) { r.Forbid("every", "why") }, "every=1", "every does not apply: why"},
		// the first error wins
		{words, "op:a=x,b=y", func(r *Opts) { r.Float("a", 0, Finite); r.Float("b", 0, Finite) }, "x", "for a"},
		{words, "op:a=x", func(r *Opts) { r.Float("a", 0, Finite); r.FailTerm("later") }, "x", "for a"},
		{words, "op:a=1", func(r *Opts) { r.FailName("bad name") }, "op", "bad name"},
	}
	for _, tc := range tests {
		r := read(t, tc.syn, tc.src)
		tc.read(r)
		err := r.Finish()
		if err == nil {
			t.Errorf("%q: no error", tc.src)
			continue
		}
		if err.Fragment() != tc.fragment || !strings.Contains(err.Msg, tc.msg) {
			t.Errorf("%q: fragment %q msg %q; want fragment %q msg containing %q", tc.src, err.Fragment(), err.Msg, tc.fragment, tc.msg)
		}
	}
}

// FuzzTerms: the scanner never panics, errors locate a fragment inside the spec, and
// every term and option span lies inside the spec in order.
func FuzzTerms(f *testing.F) {
	for _, s := range []string{"warmup:steps=200+cosine", "step:size=1e+3,gamma=0.1*plateau", " a : b = c ", "flip:h,v+crop:pad=4",
		"a:", "a:k=", ":", "+", "é:ü=1", "a:x=1e+", "a:x=1e+5+b"} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, src string, useRaw bool) {
		syn := words
		if useRaw {
			syn = raw
		}
		s := syn.Scanner(src)
		prev := 0
		for {
			term, err := s.Term()
			if err != nil {
				if err.Pos < 0 || err.Pos > err.End || err.End > len(src) || !strings.Contains(err.Error(), "at column") {
					t.Fatalf("%q: bad error %+v", src, err)
				}
				return
			}
			if term.Pos < prev || term.NameEnd > term.End || term.End > len(src) {
				t.Fatalf("%q: term span %+v", src, term)
			}
			for _, o := range term.Opts {
				if o.Pos < term.NameEnd || o.ValPos > o.End || o.End > term.End {
					t.Fatalf("%q: option span %+v", src, o)
				}
				if o.HasVal && src[o.ValPos:o.End] != o.Val {
					t.Fatalf("%q: value %q at %d", src, o.Val, o.ValPos)
				}
			}
			prev = term.End
			if !s.Accept('+') && !s.Accept('*') {
				return
			}
		}
	})
}
