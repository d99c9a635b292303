package room

import (
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestMentions(t *testing.T) {
	cases := []struct {
		body, nick string
		want       [][2]int
	}{
		{"ada: hi", "ada", [][2]int{{0, 3}}},
		{"hi @ada", "ada", [][2]int{{4, 7}}},
		{"Ada, look", "ada", [][2]int{{0, 3}}},
		{"ADA!", "ada", [][2]int{{0, 3}}},
		{"ada", "ADA", [][2]int{{0, 3}}},
		{"adam said", "ada", nil},
		{"lada said", "ada", nil},
		{"ada1", "ada", nil},
		{"1ada", "ada", nil},
		{"ada_", "ada", [][2]int{{0, 3}}},
		{"(ada)", "ada", [][2]int{{1, 4}}},
		{"ada's cat", "ada", [][2]int{{0, 3}}},
		{"ada ada", "ada", [][2]int{{0, 3}, {4, 7}}},
		{"adaada ada", "ada", [][2]int{{7, 10}}},
		{"", "ada", nil},
		{"ada", "", nil},
		{"", "", nil},
		{"a d a", "ada", nil},
		// Unicode: letters of any script join a word, marks too.
		{"émile: hi", "Émile", [][2]int{{0, 6}}},
		{"xémile", "émile", nil},
		{"émileß", "émile", nil},
		{"ada\u0301", "ada", nil},              // a combining accent makes another word
		{"ada\u200b", "ada", [][2]int{{0, 3}}}, // a zero-width space does not
		{"ада: привет", "АДА", [][2]int{{0, 6}}},
		{"боада", "ада", nil},
		{"東京ada", "ada", nil},
		{"ada٣", "ada", nil}, // an Arabic-Indic digit
		{"«ada»", "ada", [][2]int{{2, 5}}},
		{"ſtar", "STAR", [][2]int{{0, 5}}}, // long s folds to s
		{"KELVIN", "\u212Aelvin", [][2]int{{0, 6}}},
		// Nicks with punctuation or spaces of their own.
		{"hi ada (away)!", "ada (away)", [][2]int{{3, 13}}},
		{"@@bob@@", "@bob@", [][2]int{{1, 6}}},
		{"a-a-a", "a-a", [][2]int{{0, 3}, {2, 5}}[:1]},
		{"x a-a-a", "a-a", [][2]int{{2, 5}}},
		{"aaaa aa", "aa", [][2]int{{5, 7}}},
		{"\xffada\xff", "ada", [][2]int{{1, 4}}},
	}
	for _, tc := range cases {
		got := MentionSpans(tc.body, tc.nick)
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("MentionSpans(%q, %q) = %v, want %v", tc.body, tc.nick, got, tc.want)
		}
		if m := Mentions(tc.body, tc.nick); m != (len(tc.want) > 0) {
			t.Errorf("Mentions(%q, %q) = %v", tc.body, tc.nick, m)
		}
	}
}

// naiveSpans is MentionSpans written the obvious, quadratic way, to check
// it against.
func naiveSpans(body, nick string) [][2]int {
	m := utf8.RuneCountInString(nick)
	if m == 0 {
		return nil
	}
	var out [][2]int
	prevEnd := 0
	for i := 0; i < len(body); {
		_, w := utf8.DecodeRuneInString(body[i:])
		j, n := i, 0
		for j < len(body) && n < m {
			_, wj := utf8.DecodeRuneInString(body[j:])
			j += wj
			n++
		}
		if n == m && i >= prevEnd && strings.EqualFold(body[i:j], nick) {
			p, _ := utf8.DecodeLastRuneInString(body[:i])
			a, _ := utf8.DecodeRuneInString(body[j:])
			if (i == 0 || !wordRune(p)) && (j == len(body) || !wordRune(a)) {
				out = append(out, [2]int{i, j})
				prevEnd = j
			}
		}
		i += w
	}
	return out
}

func FuzzMentions(f *testing.F) {
	for _, s := range [][2]string{
		{"ada: hi", "ada"}, {"adam", "ada"}, {"@Ada,", "ada"}, {"a-a-a", "a-a"}, {"aaaa aa", "aa"},
		{"ſtar", "STAR"}, {"ада", "АДА"}, {"ada\u0301", "ada"}, {"\u202eada", "ada"}, {"\xffa", "\xff"}, {"", ""},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, body, nick string) {
		spans := MentionSpans(body, nick)
		if Mentions(body, nick) != (len(spans) > 0) {
			t.Fatal("Mentions disagrees with MentionSpans")
		}
		prev := 0
		for _, s := range spans {
			if s[0] < prev || s[1] <= s[0] || s[1] > len(body) {
				t.Fatalf("bad span %v (previous end %d) in %d bytes", s, prev, len(body))
			}
			if !strings.EqualFold(body[s[0]:s[1]], nick) {
				t.Fatalf("span %v = %q does not match %q", s, body[s[0]:s[1]], nick)
			}
			prev = s[1]
		}
		if len(body) <= 256 && len(nick) <= 64 {
			if want := naiveSpans(body, nick); !reflect.DeepEqual(spans, want) {
				t.Fatalf("MentionSpans(%q, %q) = %v, the slow way %v", body, nick, spans, want)
			}
		}
	})
}
