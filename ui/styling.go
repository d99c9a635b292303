package ui

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gdamore/tcell/v2"
)

// styleAttr is how one byte of a message body is drawn under XEP-0393
// message styling. Attributes add up: a strong span inside an emphasis
// span is both.
type styleAttr uint8

const (
	stStrong    styleAttr = 1 << iota // *strong*: bold
	stEmph                            // _emphasis_: italic
	stStrike                          // ~strike~: a line through
	stCode                            // `pre` span, or a ``` block: the code colour
	stDirective                       // a styling directive: shown, dimmed
	stQuote                           // inside a > quotation: the quote colour
	stQuoteMark                       // the quotation's own prefix (its > and the space after)
)

// styleBody parses a message body by XEP-0393 (message styling) into one
// attribute per byte of body. The directives stay in the text and are
// drawn, dimmed (the XEP recommends showing them): styling never hides or
// changes a character, it only says how each is drawn.
//
// Blocks first, line by line: a line starting with ``` opens a
// preformatted block, up to a line that is exactly ``` or the end of its
// parent (the quotation it is in, or the message); nothing inside it is
// styled. A line starting with > is quoted, one level per >, each level
// trimming one whitespace character after its >; quotations nest. Every
// other line is a plain block whose spans are parsed by styleSpans.
//
// Links (sorted, not overlapping) are opaque to spans: a _ or * inside a
// URL is part of the URL.
//
// It runs in time linear in the body whatever the body holds: no
// recursion, no backtracking (see styleSpans).
func styleBody(body string, links []link) []styleAttr {
	attrs := make([]styleAttr, len(body))
	preDepth := -1 // the quotation depth of the open ``` block; -1: none
	li := 0
	for lineStart := 0; lineStart <= len(body); {
		lineEnd := len(body)
		if n := strings.IndexByte(body[lineStart:], '\n'); n >= 0 {
			lineEnd = lineStart + n
		}
		end := lineEnd
		if end > lineStart && body[end-1] == '\r' {
			end--
		}
		pos, depth := lineStart, 0
		if preDepth >= 0 {
			// Inside a block opened at preDepth, only that many levels of
			// quotation are taken off; what follows is the block's text.
			pos, depth = quoteLevels(body, pos, end, 0, preDepth)
			if depth < preDepth {
				preDepth = -1 // the quotation holding the block ended
			}
		}
		if preDepth < 0 {
			pos, depth = quoteLevels(body, pos, end, depth, -1)
		}
		if depth > 0 {
			for i := lineStart; i < end; i++ {
				attrs[i] |= stQuote
			}
			for i := lineStart; i < pos; i++ {
				attrs[i] |= stQuoteMark | stDirective
			}
		}
		content := body[pos:end]
		switch {
		case preDepth >= 0:
			mark := stCode
			if content == "```" {
				mark |= stDirective
				preDepth = -1
			}
			for i := pos; i < end; i++ {
				attrs[i] |= mark
			}
		case strings.HasPrefix(content, "```"):
			// The opening line, with whatever follows the fence (a hint
			// of the language, which we do not use), is all directive.
			preDepth = depth
			for i := pos; i < end; i++ {
				attrs[i] |= stCode | stDirective
			}
		default:
			for li < len(links) && links[li].end <= pos {
				li++
			}
			styleSpans(body, pos, end, attrs, links[li:])
		}
		if lineEnd == len(body) {
			break
		}
		lineStart = lineEnd + 1
	}
	return attrs
}

// styled is st with the cluster's styling and link: bold, italic, a line
// through, the code and quote colours; directives dimmed; links
// underlined, and a web link handed to the terminal as an OSC 8
// hyperlink to the URL its text is.
func (c cluster) styled(st tcell.Style) tcell.Style {
	a := c.attr
	if a&stQuote != 0 && theme.Quote != tcell.ColorDefault {
		st = st.Foreground(theme.Quote)
	}
	if a&stCode != 0 && theme.Code != tcell.ColorDefault {
		st = st.Foreground(theme.Code)
	}
	if a&stStrong != 0 {
		st = st.Bold(true)
	}
	if a&stEmph != 0 {
		st = st.Italic(true)
	}
	if a&stStrike != 0 {
		st = st.StrikeThrough(true)
	}
	if a&stDirective != 0 {
		if theme.Dim != tcell.ColorDefault {
			st = st.Foreground(theme.Dim)
		} else {
			st = st.Dim(true)
		}
	}
	if c.link {
		st = st.Underline(true)
		if c.url != nil {
			st = st.Url(c.url.url).UrlId(c.url.id)
		}
	}
	return st
}

// quoteLevels takes quotation levels off the line body[pos:end], which
// is already depth levels deep, until the line has no more or limit
// levels are off (limit < 0: no limit). A level is a > and then at most
// one whitespace character.
func quoteLevels(body string, pos, end, depth, limit int) (int, int) {
	for pos < end && body[pos] == '>' && depth != limit {
		pos++
		if pos < end {
			if r, n := utf8.DecodeRuneInString(body[pos:end]); isStyleSpace(r) {
				pos += n
			}
		}
		depth++
	}
	return pos, depth
}

// isStyleSpace is XEP-0393's whitespace: White_Space or category Z.
func isStyleSpace(r rune) bool {
	return unicode.IsSpace(r) || unicode.Is(unicode.Z, r)
}

// spanAttr is the attribute a span directive gives; 0 for a character
// that is not one.
func spanAttr(c byte) styleAttr {
	switch c {
	case '*':
		return stStrong
	case '_':
		return stEmph
	case '~':
		return stStrike
	case '`':
		return stCode
	}
	return 0
}

// styleSpans styles the spans of one plain block, body[s:e]. Per
// XEP-0393: an opening directive is at the start of the line, after
// whitespace or right after an opening directive of another kind, and is
// followed by something other than whitespace; a closing directive is
// preceded by something other than whitespace or its own character, and
// the span between is not empty (so "**" and "****" style nothing, as the
// XEP's examples say). Matching is lazy (the first closing directive that fits).
// A ` span holds plain text only. Spans nest but do not cross: closing
// one drops the openings still waiting inside it, which stay plain text.
// Spans never leave the line.
//
// The openings waiting for their closing are a stack of at most four
// (one per kind: a directive of a kind already open can only close it),
// and the search for a closing ` is done once per line at most when it
// fails, so the whole is linear in the line.
func styleSpans(body string, s, e int, attrs []styleAttr, links []link) {
	type opening struct {
		at   int
		attr styleAttr
	}
	var stack [4]opening
	n := 0
	afterOpening := -1 // the byte right after the last opening directive
	var lastOpening byte
	noTick := false // no closing ` anywhere after here on this line
	li := 0
	for i := s; i < e; {
		for li < len(links) && links[li].end <= i {
			li++
		}
		if li < len(links) && links[li].start <= i {
			i = links[li].end // a URL is text, whatever it holds
			continue
		}
		c := body[i]
		a := spanAttr(c)
		if a == 0 {
			i++
			continue
		}
		k := -1
		for j := 0; j < n; j++ {
			if stack[j].attr == a {
				k = j
				break
			}
		}
		if k >= 0 {
			if i > stack[k].at+1 && body[i-1] != c && !spaceBefore(body, s, i) {
				from := stack[k].at
				for j := from; j <= i; j++ {
					attrs[j] |= a
				}
				attrs[from] |= stDirective
				attrs[i] |= stDirective
				n = k
			}
			i++
			continue
		}
		opens := (i == s || spaceBefore(body, s, i) || (afterOpening == i && lastOpening != c)) &&
			i+1 < e && !spaceAfter(body, i+1, e)
		if !opens {
			i++
			continue
		}
		if c == '`' {
			close := -1
			if !noTick {
				for j := i + 2; j < e; j++ {
					if body[j] == '`' && body[j-1] != '`' && !spaceBefore(body, s, j) {
						close = j
						break
					}
				}
				noTick = close < 0
			}
			if close < 0 {
				i++
				continue
			}
			for j := i; j <= close; j++ {
				attrs[j] |= stCode
			}
			attrs[i] |= stDirective
			attrs[close] |= stDirective
			// The links inside are still links (the ` span only stops
			// styling), and the skip above picks up after it.
			i = close + 1
			continue
		}
		stack[n] = opening{at: i, attr: a}
		n++
		afterOpening, lastOpening = i+1, c
		i++
	}
}

// spaceBefore reports whether the character before body[i] (within the
// line starting at s) is whitespace.
func spaceBefore(body string, s, i int) bool {
	r, _ := utf8.DecodeLastRuneInString(body[s:i])
	return isStyleSpace(r)
}

// spaceAfter reports whether the character at body[i] (within the line
// ending at e) is whitespace.
func spaceAfter(body string, i, e int) bool {
	r, _ := utf8.DecodeRuneInString(body[i:e])
	return isStyleSpace(r)
}

// link is a URL in a message body: body[start:end] is its text, and the
// text is the URL (there are no hidden targets). web: http or https, the
// only links gab opens or hands the terminal as a hyperlink.
type link struct {
	start, end int
	web        bool
	file       bool // not in the text: the line's encrypted file (lineLinks)
}

// linkSchemes are the schemes shown as links, lower case.
var linkSchemes = []string{"https://", "http://", "xmpp:"}

// findLinks finds the URLs in body, in order. A URL starts with one of
// linkSchemes (any case) not glued to a letter or digit before it, and
// runs to whitespace, a control, bidi or other invisible formatting
// character (Unicode's Cf: zero-width space, soft hyphen), or one of < > " ` (never
// part of a URL, and usual around one); then trailing punctuation is left
// out (. , ; : ! ? ' and the styling directives * _ ~), and so is a
// closing ) ] } without its opening inside the URL. What is left must
// have something after the scheme. Linear in body.
func findLinks(body string) []link {
	var out []link
	for i := 0; i < len(body); {
		c := body[i] | 0x20
		if c != 'h' && c != 'x' {
			i++
			continue
		}
		scheme := ""
		for _, sc := range linkSchemes {
			if len(body)-i >= len(sc) && strings.EqualFold(body[i:i+len(sc)], sc) {
				scheme = sc
				break
			}
		}
		if scheme == "" || (i > 0 && glued(body[:i])) {
			i++
			continue
		}
		j := i + len(scheme)
		for j < len(body) {
			r, size := utf8.DecodeRuneInString(body[j:])
			if isStyleSpace(r) || strings.ContainsRune("<>\"`", r) || r == utf8.RuneError && size == 1 {
				break
			}
			if o, keep := cleanRune(r); !keep || o != r || unicode.Is(unicode.Cf, r) {
				break // a control, or an invisible character: not shown as written
			}
			j += size
		}
		end := trimLink(body, i+len(scheme), j)
		if end > i+len(scheme) && !(scheme != "xmpp:" && body[i+len(scheme)] == '/') {
			out = append(out, link{start: i, end: end, web: scheme != "xmpp:"})
			i = end
			continue
		}
		i = j
	}
	return out
}

// glued reports whether the text before a scheme ends in a letter or
// digit, so that the scheme is part of a word ("xhttp://").
func glued(before string) bool {
	r, _ := utf8.DecodeLastRuneInString(before)
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

// trimLink drops trailing punctuation and unbalanced closing brackets
// from the URL body[..end] whose scheme ends at from, and returns the new
// end.
func trimLink(body string, from, end int) int {
	var opens, closes [3]int
	const pairs = "()[]{}"
	for i := from; i < end; i++ {
		if k := strings.IndexByte(pairs, body[i]); k >= 0 {
			if k%2 == 0 {
				opens[k/2]++
			} else {
				closes[k/2]++
			}
		}
	}
	for end > from {
		c := body[end-1]
		if strings.IndexByte(".,;:!?'*_~", c) >= 0 {
			end--
			continue
		}
		if k := strings.IndexByte(pairs, c); k >= 0 && k%2 == 1 && closes[k/2] > opens[k/2] {
			closes[k/2]--
			end--
			continue
		}
		break
	}
	return end
}
