// Package spec is the small lexer and option reader shared by temper's one-line SPEC
// grammars: learning-rate schedules (schedule.Parse, "warmup:steps=200+cosine") and
// augmentation pipelines (augment.Parse, "flip:h+crop:pad=4,mode=reflect").
//
// Both grammars are lists of terms
//
//	term   = name [ ":" option { "," option } ]
//	option = key [ "=" value ]
//
// joined by separators the grammar chooses ('+', and '*' for schedule chains). A Syntax
// says which bytes make up names, keys and values, whether blanks are skipped, whether
// names, keys and choice values are case-insensitive and whether an option may be a bare
// key (a flag). A Scanner reads terms from a spec; an Opts hands out a term's options as
// typed values (Float, Int, Choice, Flag) and keeps the first error. Every error is an
// *Error carrying the byte span of the offending fragment, rendered with its column:
//
//	schedule "cosine:tmax=x": at column 13: want an integer in [0, 2^40] for tmax, got "x"
//
// Use:
//
//	s := syn.Scanner(src)
//	t, err := s.Term()          // name and options, positioned
//	r := s.Opts(t)
//	size := r.Int("size", 0, 1, 1<<20)
//	p := r.Float("p", 0.5, spec.OpenClosed(0, 1))
//	if err := r.Finish(); err != nil { ... } // the first error, or an unknown option
//
// The package is internal: the public error types are schedule.SpecError and
// augment.SpecError, which carry the same position.
package spec

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Error is a malformed spec: the fragment Spec[Pos:End] and what was wanted there.
// Pos == End marks a missing token (at the end of the spec, say).
type Error struct {
	Grammar string // names the grammar in the message: "schedule", "augment"
	Spec    string
	Pos     int // byte offset of the fragment
	End     int // byte offset just past it
	Msg     string
}

// Error renders e as `grammar "spec": at column C: msg`.
func (e *Error) Error() string { return Format(e.Grammar, e.Spec, e.Pos, e.Msg) }

// Fragment returns the offending part of the spec ("" for a missing token).
func (e *Error) Fragment() string { return e.Spec[e.Pos:e.End] }

// Column returns the 1-based column (in characters) of the fragment.
func (e *Error) Column() int { return Column(e.Spec, e.Pos) }

// Caret returns the spec and a line that marks the fragment (see Caret).
func (e *Error) Caret() string { return Caret(e.Spec, e.Pos, e.End) }

// Column returns the 1-based column, counted in characters (runes), of byte offset pos
// of src. Offsets past the end give the column just after the last character.
func Column(src string, pos int) int {
	pos = max(0, min(pos, len(src)))
	return utf8.RuneCountInString(src[:pos]) + 1
}

// Format renders an error at byte offset pos of src:
// `grammar "src": at column C: msg`, with " (end of spec)" after the column when pos is
// at the end.
func Format(grammar, src string, pos int, msg string) string {
	at := fmt.Sprintf("at column %d", Column(src, pos))
	if pos >= len(src) {
		at += " (end of spec)"
	}
	return fmt.Sprintf("%s %q: %s: %s", grammar, src, at, msg)
}

// Caret returns two lines for a terminal: src indented by two spaces, and under it a
// '^' at byte offset pos followed by '~' under the rest of [pos, end). Tabs in src are
// repeated in the caret line so the mark stays aligned.
func Caret(src string, pos, end int) string {
	pos = max(0, min(pos, len(src)))
	end = max(pos, min(end, len(src)))
	var b strings.Builder
	b.WriteString("  " + src + "\n  ")
	for _, c := range src[:pos] {
		if c == '\t' {
			b.WriteByte('\t')
		} else {
			b.WriteByte(' ')
		}
	}
	b.WriteByte('^')
	if n := utf8.RuneCountInString(src[pos:end]); n > 1 {
		b.WriteString(strings.Repeat("~", n-1))
	}
	return b.String()
}

// Class tells whether src[i] continues a token that began at byte offset start.
type Class func(src string, start, i int) bool

// Word is the class of plain words: ASCII letters, digits, '_', '-' and '.', plus the
// bytes in extra.
func Word(extra string) Class {
	return func(src string, _, i int) bool {
		c := src[i]
		return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '_' || c == '-' || c == '.' || strings.IndexByte(extra, c) >= 0
	}
}

// Not is the class of every byte except those in stops.
func Not(stops string) Class {
	return func(src string, _, i int) bool { return strings.IndexByte(stops, src[i]) < 0 }
}

// ExponentSign extends c with a '+' that is the sign of a number's exponent: after 'e' or
// 'E' in a token holding a digit, and before a digit ("1e+5"). Elsewhere '+' can then
// separate terms.
func ExponentSign(c Class) Class {
	return func(src string, start, i int) bool {
		if src[i] != '+' {
			return c(src, start, i)
		}
		return i > start && (src[i-1] == 'e' || src[i-1] == 'E') &&
			strings.ContainsAny(src[start:i], "0123456789") &&
			i+1 < len(src) && src[i+1] >= '0' && src[i+1] <= '9'
	}
}

// Syntax describes the lexical shape of one grammar.
type Syntax struct {
	Grammar string // first word of error messages: "schedule", "augment"
	// Blank skips spaces and tabs around every token.
	Blank bool
	// Fold makes names, keys and choice values case-insensitive: they are lowercased.
	Fold bool
	// Name, Key and Value are the bytes of a term's name, an option's key and its value.
	Name, Key, Value Class
	// Flags allows an option without "=value" (a bare key, read with Opts.Flag).
	Flags bool
	// IntFloats lets integer options also be written as integral floats (1e3).
	IntFloats bool
	// NameWant says what a term must start with, for errors ("a schedule name (…)").
	NameWant string
}

// Option is one key[=value] of a term, with its position.
type Option struct {
	Key    string // lowercased when the syntax folds
	Val    string // "" when !HasVal
	HasVal bool
	Pos    int // byte offset of the key
	ValPos int // byte offset of the value (End when !HasVal)
	End    int // byte offset just past the option
}

// Term is one name[:options] with its position.
type Term struct {
	Name    string // lowercased when the syntax folds
	Pos     int    // byte offset of the name
	NameEnd int    // byte offset just past the name
	End     int    // byte offset just past the term's last token
	Opts    []*Option
}

// Scanner reads tokens and terms from a spec, skipping blanks when the syntax says so.
type Scanner struct {
	syn *Syntax
	src string
	i   int
}

// Scanner returns a scanner at the start of src.
func (syn *Syntax) Scanner(src string) *Scanner { return &Scanner{syn: syn, src: src} }

// Src returns the spec being read.
func (s *Scanner) Src() string { return s.src }

// Pos returns the byte offset of the next unread byte.
func (s *Scanner) Pos() int { return s.i }

func (s *Scanner) blank() {
	for s.syn.Blank && s.i < len(s.src) && (s.src[s.i] == ' ' || s.src[s.i] == '\t') {
		s.i++
	}
}

// AtEnd skips blanks and reports whether the whole spec has been read.
func (s *Scanner) AtEnd() bool {
	s.blank()
	return s.i >= len(s.src)
}

// Accept skips blanks and consumes c if it comes next.
func (s *Scanner) Accept(c byte) bool {
	s.blank()
	if s.i < len(s.src) && s.src[s.i] == c {
		s.i++
		return true
	}
	return false
}

// Token skips blanks and reads the longest run of bytes in class c ("" if none),
// returning it and its offset.
func (s *Scanner) Token(c Class) (string, int) {
	s.blank()
	start := s.i
	for s.i < len(s.src) && c(s.src, start, s.i) {
		s.i++
	}
	return s.src[start:s.i], start
}

// Errorf returns an *Error for the fragment src[pos:end] (both clamped to the spec).
func (s *Scanner) Errorf(pos, end int, format string, args ...any) *Error {
	pos = max(0, min(pos, len(s.src)))
	end = max(pos, min(end, len(s.src)))
	return &Error{Grammar: s.syn.Grammar, Spec: s.src, Pos: pos, End: end, Msg: fmt.Sprintf(format, args...)}
}

// Unexpected reports the character after the blanks at the current position (or the end
// of the spec) where want was wanted: `want X, got ";"`.
func (s *Scanner) Unexpected(want string) *Error {
	s.blank()
	if s.i >= len(s.src) {
		return s.Errorf(s.i, s.i, "want %s, got the end of the spec", want)
	}
	_, size := utf8.DecodeRuneInString(s.src[s.i:])
	return s.Errorf(s.i, s.i+size, "want %s, got %q", want, s.src[s.i:s.i+size])
}

func (s *Scanner) fold(v string) string {
	if s.syn.Fold {
		return strings.ToLower(v)
	}
	return v
}

// Term reads name [":" option {"," option}]. An option key given twice is an error.
func (s *Scanner) Term() (*Term, *Error) {
	name, pos := s.Token(s.syn.Name)
	if name == "" {
		return nil, s.Unexpected(s.syn.NameWant)
	}
	t := &Term{Name: s.fold(name), Pos: pos, NameEnd: pos + len(name), End: pos + len(name)}
	if !s.Accept(':') {
		return t, nil
	}
	for {
		o, err := s.option()
		if err != nil {
			return nil, err
		}
		for _, prev := range t.Opts {
			if prev.Key == o.Key {
				return nil, s.Errorf(o.Pos, o.End, "option %q given twice", o.Key)
			}
		}
		t.Opts = append(t.Opts, o)
		t.End = o.End
		if !s.Accept(',') {
			return t, nil
		}
	}
}

func (s *Scanner) option() (*Option, *Error) {
	key, pos := s.Token(s.syn.Key)
	if key == "" {
		return nil, s.Unexpected("an option name")
	}
	o := &Option{Key: s.fold(key), Pos: pos, ValPos: pos + len(key), End: pos + len(key)}
	if !s.Accept('=') {
		if !s.syn.Flags {
			return nil, s.Unexpected(fmt.Sprintf("\"=\" after option %q", key))
		}
		return o, nil
	}
	val, vpos := s.Token(s.syn.Value)
	if val == "" {
		return nil, s.Unexpected(fmt.Sprintf("a value for option %q", key))
	}
	o.Val, o.HasVal, o.ValPos, o.End = val, true, vpos, vpos+len(val)
	return o, nil
}

// ParseInt parses a decimal integer, and with floats also an integral float such as 1e3,
// that lies in [lo, hi].
func ParseInt(v string, lo, hi int, floats bool) (int, bool) {
	n, err := strconv.ParseInt(v, 10, 64)
	if err == nil {
		return int(n), n >= int64(lo) && n <= int64(hi)
	}
	if !floats {
		return 0, false
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f != float64(int64(f)) || f < float64(lo) || f > float64(hi) {
		return 0, false
	}
	return int(f), true
}

// Bound formats a range bound: powers of two from 2^10 as "2^k", else %g.
func Bound(v float64) string {
	if v >= 1024 && v < 1<<62 && v == float64(int64(v)) {
		if n := int64(v); n&(n-1) == 0 {
			k := 0
			for n > 1 {
				n >>= 1
				k++
			}
			return fmt.Sprintf("2^%d", k)
		}
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}
