package ui

import "testing"

func TestSanitize(t *testing.T) {
	cases := []struct{ in, want string }{
		{"Alice", "Alice"},
		{"[red]Boss[-]", "[red[]Boss[-[]"},
		{"[:::https://evil]click[:::-]", "[:::https://evil[]click[:::-[]"},
		{"a\u009b31mb", "a\uFFFD31mb"},
		{"\x1b[2Jclear", "\uFFFD[2Jclear"},
		{"abc\u202Edef", "abc\uFFFDdef"},
		{"rtl\u200Fmark", "rtlmark"},
		{"two\nlines", "two lines"},
		{"日本語 🇩🇪", "日本語 🇩🇪"},
		{"[[nested]]", "[[nested[]]"},
	}
	for _, tc := range cases {
		if got := Sanitize(tc.in); got != tc.want {
			t.Errorf("Sanitize(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestClustersAndWidths(t *testing.T) {
	cases := []struct {
		in    string
		n     int // clusters
		width int
	}{
		{"abc", 3, 3},
		{"日本", 2, 4},
		{"👩‍👩‍👧", 1, 2},
		{"e\u0301", 1, 1},
		{"\u0301", 1, 1}, // a lone combining mark gets its own cell
		{"a\u009bb", 3, 3},
		{"[red]", 5, 5},
	}
	for _, tc := range cases {
		cs := clusters(tc.in)
		if len(cs) != tc.n || width(tc.in) != tc.width {
			t.Errorf("%q: %d clusters, width %d; want %d, %d", tc.in, len(cs), width(tc.in), tc.n, tc.width)
		}
	}
}

func TestWrap(t *testing.T) {
	str := func(ls [][]cluster) []string {
		var out []string
		for _, l := range ls {
			s := ""
			for _, c := range l {
				s += string(c.runes)
			}
			out = append(out, s)
		}
		return out
	}
	cases := []struct {
		in   string
		w    int
		want []string
	}{
		{"hello world", 20, []string{"hello world"}},
		{"hello world", 7, []string{"hello", "world"}},
		{"abcdefghij", 4, []string{"abcd", "efgh", "ij"}},
		{"日本語テキスト", 5, []string{"日本", "語テ", "キス", "ト"}},
		{"", 5, []string{""}},
	}
	for _, tc := range cases {
		got := str(wrap(clusters(tc.in), tc.w))
		if len(got) != len(tc.want) {
			t.Errorf("wrap(%q, %d) = %q, want %q", tc.in, tc.w, got, tc.want)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("wrap(%q, %d) = %q, want %q", tc.in, tc.w, got, tc.want)
				break
			}
		}
	}
}
