package ui

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gab-chat/gab/chat"
)

// describeStyle writes body with each run of bytes of the same attributes
// as [flags:text], flags being s strong, e emphasis, x strike, c code,
// d directive, q quoted, m the quotation's prefix; unstyled text as is.
func describeStyle(body string) string {
	attrs := styleBody(body, findLinks(body))
	var b strings.Builder
	for i := 0; i < len(body); {
		j := i
		for j < len(body) && attrs[j] == attrs[i] {
			j++
		}
		if attrs[i] == 0 {
			b.WriteString(body[i:j])
		} else {
			b.WriteString("[" + attrFlags(attrs[i]) + ":" + body[i:j] + "]")
		}
		i = j
	}
	return b.String()
}

func attrFlags(a styleAttr) string {
	var f string
	for _, x := range []struct {
		a styleAttr
		c string
	}{{stQuote, "q"}, {stQuoteMark, "m"}, {stEmph, "e"}, {stStrong, "s"}, {stStrike, "x"}, {stCode, "c"}, {stDirective, "d"}} {
		if a&x.a != 0 {
			f += x.c
		}
	}
	return f
}

// The examples of XEP-0393 (business rules, 1.1), and the cases around
// them.
func TestStyleBodyXEPExamples(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		// Spans: styled.
		{"*strong*", "[sd:*][s:strong][sd:*]"},
		{"plain *strong* plain", "plain [sd:*][s:strong][sd:*] plain"},
		{"*strong* plain *strong*", "[sd:*][s:strong][sd:*] plain [sd:*][s:strong][sd:*]"},
		{"*strong*plain*", "[sd:*][s:strong][sd:*]plain*"},
		{"* plain *strong*", "* plain [sd:*][s:strong][sd:*]"},
		// Spans: nothing styled.
		{"not strong*", "not strong*"},
		{"*not strong", "*not strong"},
		{"*not \n strong*", "*not \n strong*"},
		{"*not *strong", "*not *strong"},
		{"**", "**"},
		{"****", "****"},
		{"*", "*"},
		{"* *", "* *"},
		{"a*b*", "a*b*"}, // an opening directive follows whitespace
		{"*a *", "*a *"}, // a closing one does not
		// The kinds.
		{"The full title is _Twelfth Night, or What You Will_ but", "The full title is [ed:_][e:Twelfth Night, or What You Will][ed:_] but"},
		{"Everyone ~dis~likes cake.", "Everyone [xd:~][x:dis][xd:~]likes cake."},
		{"Wow, I can write in `monospace`!", "Wow, I can write in [cd:`][c:monospace][cd:`]!"},
		{"This is `*monospace*`", "This is [cd:`][c:*monospace*][cd:`]"},
		{"This is *`monospace and bold`*", "This is [sd:*][scd:`][sc:monospace and bold][scd:`][sd:*]"},
		// Nesting, and spans that would cross.
		{"_emphasized span containing *strong span*_", "[ed:_][e:emphasized span containing ][esd:*][es:strong span][esd:*][ed:_]"},
		{"_a *b_ c*", "[ed:_][e:a *b][ed:_] c*"},
		{"*a _b c_", "*a [ed:_][e:b c][ed:_]"},
		{"`a *b*", "`a [sd:*][s:b][sd:*]"}, // an unclosed ` styles nothing
		// Blocks: preformatted.
		{"```ignored\n(println \"Hello, world!\")\n```\n\nThis should show up as *monospace*",
			"[cd:```ignored]\n[c:(println \"Hello, world!\")]\n[cd:```]\n\nThis should show up as [sd:*][s:monospace][sd:*]"},
		{"```\n*not strong*", "[cd:```]\n[c:*not strong*]"},
		{"```\n``` \n*in the block*", "[cd:```]\n[c:``` ]\n[c:*in the block*]"},
		{"> ```\n> (println \"Hello, world!\")\n\nThe entire blockquote is a *pre* block",
			"[qmd:> ][qcd:```]\n[qmd:> ][qc:(println \"Hello, world!\")]\n\nThe entire blockquote is a [sd:*][s:pre][sd:*] block"},
		// Blocks: quotations.
		{"> That that is, is.\n\nSaid the old hermit of Prague.", "[qmd:> ][q:That that is, is.]\n\nSaid the old hermit of Prague."},
		{">> That that is, is.\n> Said the old hermit of Prague.\n\nWho?", "[qmd:>> ][q:That that is, is.]\n[qmd:> ][q:Said the old hermit of Prague.]\n\nWho?"},
		{"> > *deep*", "[qmd:> > ][qsd:*][qs:deep][qsd:*]"},
		{">  two spaces", "[qmd:> ][q: two spaces]"},
		{"a > b", "a > b"},
		{">", "[qmd:>]"},
		// Windows line ends do not count as text.
		{"*a*\r\n> b\r", "[sd:*][s:a][sd:*]\r\n[qmd:> ][q:b]\r"},
		// Unicode whitespace bounds spans too.
		{"x\u00a0*a*", "x\u00a0[sd:*][s:a][sd:*]"},
		{"*a\u2003*", "*a\u2003*"},
		// Directives inside a URL are the URL's.
		{"_https://example.org/a_b_ ok", "[ed:_][e:https://example.org/a_b][ed:_] ok"},
	} {
		if got := describeStyle(tc.in); got != tc.want {
			t.Errorf("%q:\n got %s\nwant %s", tc.in, got, tc.want)
		}
	}
}

func TestFindLinks(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string // the links' text; web links marked with a leading +
	}{
		{"see https://example.org/a.", []string{"+https://example.org/a"}},
		{"(https://en.wikipedia.org/wiki/Foo_(bar))", []string{"+https://en.wikipedia.org/wiki/Foo_(bar)"}},
		{"(see https://example.org/x)", []string{"+https://example.org/x"}},
		{"[https://example.org/]", []string{"+https://example.org/"}},
		{"<https://example.org/q?a=1&b=2>", []string{"+https://example.org/q?a=1&b=2"}},
		{"\"http://a.example\", then HTTPS://B.EXAMPLE/!", []string{"+http://a.example", "+HTTPS://B.EXAMPLE/"}},
		{"join xmpp:room@conference.example?join now", []string{"xmpp:room@conference.example?join"}},
		{"xhttp://no and http:// and https:///x and xmpp: alone", nil},
		{"*https://example.org/b*", []string{"+https://example.org/b"}},
		{"ftp://example.org javascript:alert(1) data:text/html,x", nil},
		{"https://example.org/\u202eevil", []string{"+https://example.org/"}},
		{"https://exa\u200bmple.org/ https://b.example/\u00adx", []string{"+https://exa", "+https://b.example/"}},
		// The escape is cut out of the first; the second is a link whose text is all it is.
		{"https://example.org/\x1b]8;;https://evil\x07", []string{"+https://example.org/", "+https://evil"}},
		{"a https://例え.jp/パス b", []string{"+https://例え.jp/パス"}},
	} {
		var got []string
		for _, l := range findLinks(tc.in) {
			s := tc.in[l.start:l.end]
			if l.web {
				s = "+" + s
			}
			got = append(got, s)
		}
		if strings.Join(got, " ") != strings.Join(tc.want, " ") {
			t.Errorf("%q: got %q, want %q", tc.in, got, tc.want)
		}
	}
}

// Each web link's cells share one hyperlink (its text as URL, its own id);
// another link has another; an xmpp: link and plain text have none.
func TestLinkClusters(t *testing.T) {
	body := "a https://x.example/é b xmpp:c@d https://y.example/"
	cs := styledClusters(body, 0, nil, nil, findLinks(body))
	var x, y *hyperlink
	for i, c := range cs {
		switch {
		case i >= 2 && i < 21:
			if !c.link || c.url == nil || (x != nil && c.url != x) {
				t.Fatalf("cluster %d (%q) of the first link: %+v", i, string(c.runes), c)
			}
			x = c.url
		case i >= 24 && i < 32:
			if !c.link || c.url != nil {
				t.Fatalf("cluster %d (%q) of the xmpp: link: %+v", i, string(c.runes), c)
			}
		case i >= 33:
			if !c.link || c.url == nil || (y != nil && c.url != y) {
				t.Fatalf("cluster %d (%q) of the second link: %+v", i, string(c.runes), c)
			}
			y = c.url
		default:
			if c.link || c.url != nil {
				t.Fatalf("cluster %d (%q) is not in a link: %+v", i, string(c.runes), c)
			}
		}
	}
	if x.url != "https://x.example/%C3%A9" || y.url != "https://y.example/" || x.id == y.id || x.id == "" {
		t.Errorf("hyperlinks %+v and %+v", *x, *y)
	}
}

// Hostile bodies: deep quotations and floods of directives are styled
// without blowing up, and the attributes keep their invariants.
func TestStyleBodyHostile(t *testing.T) {
	deep := strings.Repeat(">", 10000) + " *x*"
	attrs := styleBody(deep, nil)
	if attrs[0]&stQuoteMark == 0 || attrs[9999]&stQuoteMark == 0 || attrs[10001]&stStrong == 0 {
		t.Errorf("10,000 levels of quotation: got %s at the start, %s for the strong x", attrFlags(attrs[0]), attrFlags(attrs[10001]))
	}
	nested := strings.Repeat("> ", 10000) + "```\n" + strings.Repeat("> ", 10000) + "*code*\n*after*"
	if got := describeStyle(nested); !strings.HasSuffix(got, "[qc:*code*]\n[sd:*][s:after][sd:*]") {
		t.Errorf("a block 10,000 quotations deep: got …%s", got[max(0, len(got)-60):])
	}
	for _, body := range hostileBodies() {
		checkStyleInvariants(t, body)
	}
}

func hostileBodies() []string {
	return []string{
		strings.Repeat("*_~`", 25000),
		strings.Repeat(" *_~`", 20000),
		strings.Repeat("*a _b ~c `d ", 10000),
		strings.Repeat("` ", 50000),
		strings.Repeat("```\n", 25000),
		strings.Repeat("> ```\n", 20000),
		strings.Repeat("(https://x.org/(", 5000) + strings.Repeat(")", 20000),
		strings.Repeat("https://", 12000),
	}
}

// checkStyleInvariants: one attribute per byte; no span leaves its line;
// every strong, emphasis and strike run starts and ends on its directive;
// and styling never changes the text drawn.
func checkStyleInvariants(t *testing.T, body string) {
	t.Helper()
	links := findLinks(body)
	attrs := styleBody(body, links)
	if len(attrs) != len(body) {
		t.Fatalf("%d attributes for %d bytes", len(attrs), len(body))
	}
	for _, k := range []struct {
		a styleAttr
		c byte
	}{{stStrong, '*'}, {stEmph, '_'}, {stStrike, '~'}} {
		for i := 0; i < len(body); {
			if attrs[i]&k.a == 0 {
				i++
				continue
			}
			j := i
			for j < len(body) && attrs[j]&k.a != 0 {
				if body[j] == '\n' {
					t.Fatalf("a %c span crosses a line at %d", k.c, j)
				}
				j++
			}
			if body[i] != k.c || body[j-1] != k.c || attrs[i]&stDirective == 0 || attrs[j-1]&stDirective == 0 || j-i < 3 {
				t.Fatalf("a %c span %q (at %d) is not between its directives", k.c, clip(body[i:j], 40), i)
			}
			i = j
		}
	}
	last := 0
	for _, l := range links {
		if l.start < last || l.end <= l.start || l.end > len(body) || strings.ContainsAny(body[l.start:l.end], " \n\x1b") {
			t.Fatalf("bad link %+v", l)
		}
		last = l.end
	}
	var plain, styled strings.Builder
	for _, c := range clusters(body) {
		plain.WriteString(string(c.runes))
	}
	for _, c := range styledClusters(body, 0, nil, attrs, links) {
		styled.WriteString(string(c.runes))
	}
	if plain.String() != styled.String() {
		t.Fatalf("styling changed the text drawn")
	}
}

func FuzzStyleBody(f *testing.F) {
	for _, s := range []string{"*strong* _em_ ~x~ `code`", "> q\n>> *qq*\n```\nx\n```", "a https://example.org/(x) b", "*`a`*", "_a *b_ c*"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		if !utf8.ValidString(body) {
			return
		}
		checkStyleInvariants(t, body)
	})
}

func BenchmarkStyleBodyHostile(b *testing.B) {
	for _, tc := range []struct{ name, body string }{
		{"quotes10000", strings.Repeat(">", 10000) + " x"},
		{"quoteLines10000", strings.Repeat("> > > *a* _b_\n", 10000)},
		{"directives100KB", strings.Repeat("*_~`", 25000)},
		{"spacedDirectives100KB", strings.Repeat("*a _b ~c `d ", 10000)},
		{"ticks100KB", strings.Repeat("` ", 50000)},
		{"links100KB", strings.Repeat("https://example.org/(a) ", 4000)},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(len(tc.body)))
			for i := 0; i < b.N; i++ {
				styleBody(tc.body, findLinks(tc.body))
			}
		})
	}
}

// Wrapping one message into screen rows, as each arrival (or a resize)
// costs: an ordinary styled message with a link, and hostile ones, with
// styling on and off.
func BenchmarkLineRowsStyled(b *testing.B) {
	state := NewState(nil)
	for _, tc := range []struct{ name, body string }{
		{"ordinary", "*look* at _this_: https://example.org/some/path?q=1 and `code`, ~not that~\n> quoted *line* here"},
		{"quotes10000", strings.Repeat(">", 10000) + " *x*"},
		{"directives100KB", strings.Repeat("*_~`", 25000)},
		{"quoteLines100KB", strings.Repeat("> > *a* _b_ https://x.org/\n", 4000)},
	} {
		for _, on := range []bool{true, false} {
			name := tc.name + "/styling"
			if !on {
				name = tc.name + "/plain"
			}
			b.Run(name, func(b *testing.B) {
				v := NewConvView(state, "15:04")
				v.Styling = on
				l := &Line{Time: time.Now(), Sender: "Peer", SenderKey: "p@x", Body: tc.body, Kind: LineIn}
				b.SetBytes(int64(len(tc.body)))
				b.ReportAllocs()
				for i := 0; i < b.N; i++ {
					l.wrapped = nil
					v.lineRows(l, 120, chat.KindChat)
				}
			})
		}
	}
}
