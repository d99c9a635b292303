package room

import (
	"strconv"
	"unicode"
	"unicode/utf8"
)

// foldRune maps r to one representative of the runes that equal it case
// insensitively (the smallest of its simple case-folding orbit), so that two
// runes match exactly when strings.EqualFold would match them.
func foldRune(r rune) rune {
	if r < utf8.RuneSelf {
		if 'a' <= r && r <= 'z' {
			r -= 'a' - 'A'
		}
		return r
	}
	min := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		if f < min {
			min = f
		}
	}
	return min
}

// wordRune reports whether r continues a word: letters, digits and the
// marks that combine with them. Anything else (punctuation, symbols, spaces,
// control and format characters) ends one.
func wordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)
}

// Mentions reports whether body mentions nick: nick appears in it as a whole
// word, case-insensitively. A letter, digit or combining mark next to it
// makes it part of another word ("adam" does not mention ada); punctuation
// does not ("@ada", "ada:" and "Ada," do). An empty nick is never mentioned.
func Mentions(body, nick string) bool {
	return len(MentionSpans(body, nick)) > 0
}

// MentionSpans returns where body mentions nick (as Mentions decides), as
// byte ranges [start, end) of body, in order and not overlapping, for
// highlighting. Its cost is linear in the lengths of body and nick.
func MentionSpans(body, nick string) [][2]int {
	if nick == "" || len(body) == 0 {
		return nil
	}
	// The pattern, folded, with its KMP failure table.
	pat := make([]rune, 0, utf8.RuneCountInString(nick))
	for _, c := range nick {
		pat = append(pat, foldRune(c))
	}
	fail := make([]int, len(pat))
	for i, k := 1, 0; i < len(pat); i++ {
		for k > 0 && pat[i] != pat[k] {
			k = fail[k-1]
		}
		if pat[i] == pat[k] {
			k++
		}
		fail[i] = k
	}
	// starts[j] is the byte offset of the j-th rune back from the current
	// one, kept in a ring as long as the pattern, so a match's start is known
	// without storing the whole body.
	starts := make([]int, len(pat))
	var spans [][2]int
	prevEnd := 0 // end of the last span, so spans never overlap
	k, n := 0, 0 // matched pattern runes; runes read
	for i := 0; i < len(body); {
		c, w := utf8.DecodeRuneInString(body[i:])
		starts[n%len(pat)] = i
		f := foldRune(c)
		for k > 0 && f != pat[k] {
			k = fail[k-1]
		}
		if f == pat[k] {
			k++
		}
		n++
		i += w
		if k == len(pat) {
			start := starts[(n-len(pat))%len(pat)]
			k = fail[k-1]
			if start < prevEnd {
				continue
			}
			if start > 0 {
				if p, _ := utf8.DecodeLastRuneInString(body[:start]); wordRune(p) {
					continue
				}
			}
			if i < len(body) {
				if a, _ := utf8.DecodeRuneInString(body[i:]); wordRune(a) {
					continue
				}
			}
			spans = append(spans, [2]int{start, i})
			prevEnd = i
		}
	}
	return spans
}

// TypingText says who is composing: "ada is typing", "ada and bob are
// typing", "ada and 2 others are typing"; "" for nobody.
func TypingText(names []string) string {
	switch len(names) {
	case 0:
		return ""
	case 1:
		return names[0] + " is typing"
	case 2:
		return names[0] + " and " + names[1] + " are typing"
	}
	return names[0] + " and " + strconv.Itoa(len(names)-1) + " others are typing"
}

// hasPrefixFold reports whether s starts with prefix, case-insensitively.
func hasPrefixFold(s, prefix string) bool {
	for _, p := range prefix {
		if s == "" {
			return false
		}
		c, w := utf8.DecodeRuneInString(s)
		if foldRune(c) != foldRune(p) {
			return false
		}
		s = s[w:]
	}
	return true
}

// Complete lists the nicks that start with prefix, case-insensitively, for
// nick completion: first those in recent (who spoke, most recent first) in
// that order, then the rest case-insensitively in alphabetical order. Only
// occupants present are offered, and never we ourselves.
func (r *Room) Complete(prefix string, recent []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, n := range recent {
		e := r.byNick[n]
		if e == nil || seen[n] || r.IsSelf(e.Occupant) || !hasPrefixFold(n, prefix) {
			continue
		}
		seen[n] = true
		out = append(out, n)
	}
	var rest []string
	for n, e := range r.byNick {
		if !seen[n] && !r.IsSelf(e.Occupant) && hasPrefixFold(n, prefix) {
			rest = append(rest, n)
		}
	}
	sortNicks(rest)
	return append(out, rest...)
}
