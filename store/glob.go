package store

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// ErrBadGlob is wrapped by the error CompileGlob returns for a pattern that
// is not a valid glob.
var ErrBadGlob = errors.New("store: invalid glob")

// MaxGlobLen bounds the length in bytes of a pattern CompileGlob accepts.
const MaxGlobLen = 256

// CompileGlob returns a matcher for pattern in the glob syntax of Redis's
// MATCH, anchored at both ends and case-sensitive: * matches any run of
// characters (newlines included), ? any one character, [abc] and [a-z] one
// of a set ([^abc] and [!abc] negated), and \ quotes the next character. A
// character is a UTF-8 rune, or one byte of a string that is not UTF-8.
//
// Matching costs time linear in the length of the text, whatever the
// pattern: runs of * count as one, the text between two stars is found at
// its leftmost place (which is where a match can always take it) with a
// bit-parallel search, never by backtracking. A pattern longer than
// MaxGlobLen is refused.
func CompileGlob(pattern string) (func(string) bool, error) {
	if len(pattern) > MaxGlobLen {
		return nil, fmt.Errorf("%w: the pattern is %d bytes long, longer than %d", ErrBadGlob, len(pattern), MaxGlobLen)
	}
	g, err := parseGlob(pattern)
	if err != nil {
		return nil, fmt.Errorf("%w %q: %s", ErrBadGlob, pattern, err)
	}
	return g.match, nil
}

// glob is a compiled pattern: the segments between its stars. Without a
// star, the one segment must match the whole text; with stars, the first
// segment (maybe empty) starts the text, the last ends it, and the others
// follow each other in between.
type glob struct {
	segs  []segment
	stars bool
	min   int // the atoms of all segments: a text shorter in bytes cannot match
}

// segment is a run of atoms between stars, each matching one character,
// with its masks for the bit-parallel (shift-and) search.
type segment struct {
	atoms   []atom
	literal string // the segment's text when every atom is a literal, else ""
	// ascii holds a mask of words words for each byte c < 128, whose bit i
	// is set when atom i matches c; other runes are tested atom by atom
	// (see mask).
	ascii []uint64
	words int
}

// atom matches one character.
type atom struct {
	kind   atomKind
	r      rune      // atomRune
	ranges [][2]rune // atomSet: inclusive ranges
	negate bool      // atomSet
}

type atomKind uint8

const (
	atomRune atomKind = iota
	atomAny
	atomSet
)

func (a *atom) matches(r rune) bool {
	switch a.kind {
	case atomAny:
		return true
	case atomRune:
		return r == a.r
	}
	in := false
	for _, rg := range a.ranges {
		if rg[0] <= r && r <= rg[1] {
			in = true
			break
		}
	}
	return in != a.negate
}

func parseGlob(pattern string) (*glob, error) {
	g := &glob{}
	var cur []atom
	end := func() {
		g.segs = append(g.segs, newSegment(cur))
		g.min += len(cur)
		cur = nil
	}
	afterStar := false
	for i := 0; i < len(pattern); {
		r, n := utf8.DecodeRuneInString(pattern[i:])
		i += n
		if r == '*' {
			if !afterStar { // a run of stars is one
				end()
			}
			g.stars, afterStar = true, true
			continue
		}
		afterStar = false
		switch r {
		case '?':
			cur = append(cur, atom{kind: atomAny})
		case '\\':
			if i == len(pattern) {
				return nil, fmt.Errorf("it ends with \\")
			}
			r, n = utf8.DecodeRuneInString(pattern[i:])
			i += n
			cur = append(cur, atom{kind: atomRune, r: r})
		case '[':
			a, n, err := parseSet(pattern[i:])
			if err != nil {
				return nil, err
			}
			i += n
			cur = append(cur, a)
		default:
			cur = append(cur, atom{kind: atomRune, r: r})
		}
	}
	end()
	return g, nil
}

// parseSet parses a set after its [: its characters up to the first ],
// a leading ^ or ! negating it, a - between two characters making a range.
// It returns the atom and the bytes it read, ] included.
func parseSet(s string) (atom, int, error) {
	end := strings.IndexByte(s, ']')
	if end < 0 {
		return atom{}, 0, fmt.Errorf("[ without ]")
	}
	body := []rune(s[:end])
	a := atom{kind: atomSet}
	if len(body) > 0 && (body[0] == '^' || body[0] == '!') {
		a.negate, body = true, body[1:]
	}
	if len(body) == 0 {
		return atom{}, 0, fmt.Errorf("empty []")
	}
	for j := 0; j < len(body); j++ {
		if j+2 < len(body) && body[j+1] == '-' {
			lo, hi := body[j], body[j+2]
			if lo > hi {
				return atom{}, 0, fmt.Errorf("range %c-%c out of order", lo, hi)
			}
			a.ranges = append(a.ranges, [2]rune{lo, hi})
			j += 2
			continue
		}
		a.ranges = append(a.ranges, [2]rune{body[j], body[j]})
	}
	return a, end + 1, nil
}

func newSegment(atoms []atom) segment {
	s := segment{atoms: atoms, words: (len(atoms) + 63) / 64}
	var lit strings.Builder
	for _, a := range atoms {
		// U+FFFD also stands for a byte that is not UTF-8, which
		// strings.Index would not find.
		if a.kind != atomRune || a.r == utf8.RuneError {
			lit.Reset()
			break
		}
		lit.WriteRune(a.r)
	}
	if lit.Len() > 0 || len(atoms) == 0 {
		s.literal = lit.String()
		return s
	}
	ascii := make([]uint64, utf8.RuneSelf*s.words)
	for c := range rune(utf8.RuneSelf) {
		s.mask(c, ascii[int(c)*s.words:int(c+1)*s.words])
	}
	s.ascii = ascii
	return s
}

// mask returns the mask of r: the bits of the atoms that match r, computed
// into m unless r is ASCII.
func (s *segment) mask(r rune, m []uint64) []uint64 {
	if r < utf8.RuneSelf && s.ascii != nil {
		return s.ascii[int(r)*s.words : int(r+1)*s.words]
	}
	clear(m)
	for i := range s.atoms {
		if s.atoms[i].matches(r) {
			m[i/64] |= 1 << (i % 64)
		}
	}
	return m
}

// isLiteral reports whether the segment is plain text, searched with
// strings.Index.
func (s *segment) isLiteral() bool { return s.literal != "" || len(s.atoms) == 0 }

// matchAt returns the end of the segment matched at the start of text, or
// -1.
func (s *segment) matchAt(text string) int {
	if s.isLiteral() {
		if strings.HasPrefix(text, s.literal) {
			return len(s.literal)
		}
		return -1
	}
	i := 0
	for k := range s.atoms {
		if i == len(text) {
			return -1
		}
		r, n := utf8.DecodeRuneInString(text[i:])
		if !s.atoms[k].matches(r) {
			return -1
		}
		i += n
	}
	return i
}

// matchEnd returns the start of the segment matched at the end of text, or
// -1.
func (s *segment) matchEnd(text string) int {
	if s.isLiteral() {
		if strings.HasSuffix(text, s.literal) {
			return len(text) - len(s.literal)
		}
		return -1
	}
	i := len(text)
	for k := len(s.atoms) - 1; k >= 0; k-- {
		if i == 0 {
			return -1
		}
		r, n := utf8.DecodeLastRuneInString(text[:i])
		if !s.atoms[k].matches(r) {
			return -1
		}
		i -= n
	}
	return i
}

// find returns the end of the leftmost match of the segment in text, or
// -1. Every match has as many characters as the segment has atoms, so the
// one that ends first also starts first. A literal segment is found by
// strings.Index, any other by shift-and: bit i of d says that the atoms up
// to i match the characters up to here, which costs one pass over the text
// whatever the atoms.
func (s *segment) find(text string) int {
	if s.isLiteral() {
		i := strings.Index(text, s.literal)
		if i < 0 {
			return -1
		}
		return i + len(s.literal)
	}
	if s.words == 1 {
		return s.find1(text)
	}
	last := len(s.atoms) - 1
	var buf [4]uint64 // d and m of a segment of up to 128 atoms
	dm := buf[:]
	if 2*s.words > len(buf) {
		dm = make([]uint64, 2*s.words)
	}
	d, m := dm[:s.words], dm[s.words:2*s.words]
	for i := 0; i < len(text); {
		r, n := utf8.DecodeRuneInString(text[i:])
		i += n
		mask := s.mask(r, m)
		carry := uint64(1) // a match may start at every character
		for w := range d {
			next := d[w] >> 63
			d[w] = (d[w]<<1 | carry) & mask[w]
			carry = next
		}
		if d[last/64]&(1<<(last%64)) != 0 {
			return i
		}
	}
	return -1
}

// find1 is find for a segment of at most 64 atoms.
func (s *segment) find1(text string) int {
	done := uint64(1) << (len(s.atoms) - 1)
	var d, m uint64
	for i := 0; i < len(text); {
		c := text[i]
		if c < utf8.RuneSelf {
			i++
			m = s.ascii[c]
		} else {
			r, n := utf8.DecodeRuneInString(text[i:])
			i += n
			var buf [1]uint64
			m = s.mask(r, buf[:])[0]
		}
		if d = (d<<1 | 1) & m; d&done != 0 {
			return i
		}
	}
	return -1
}

func (g *glob) match(text string) bool {
	if len(text) < g.min {
		return false
	}
	if !g.stars {
		return g.segs[0].matchAt(text) == len(text)
	}
	first, last := &g.segs[0], &g.segs[len(g.segs)-1]
	start := first.matchAt(text)
	if start < 0 {
		return false
	}
	end := last.matchEnd(text[start:])
	if end < 0 {
		return false
	}
	middle := text[start : start+end]
	for i := 1; i < len(g.segs)-1; i++ {
		n := g.segs[i].find(middle)
		if n < 0 {
			return false
		}
		middle = middle[n:]
	}
	return true
}
