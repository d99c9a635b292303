package ui

import (
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/gdamore/tcell/v2"
	"github.com/rivo/uniseg"
)

// cluster is one grapheme cluster ready to draw: its runes, cleaned, and
// the cells it takes.
type cluster struct {
	runes []rune
	width int
	space bool // a place to break a line
	mark  bool // our nick, named in a room message: drawn highlighted
	attr  styleAttr
	link  bool       // part of a URL: underlined
	url   *hyperlink // a web link's, handed to the terminal (OSC 8)
}

// clusters splits remote text into drawable grapheme clusters. Nothing in
// it is interpreted: tview tags are plain characters here, controls and
// bidi overrides are replaced (see cleanRune).
func clusters(s string) []cluster { return clustersMarked(s, 0, nil) }

// clustersMarked is clusters with those inside spans marked; spans are
// byte ranges of a text of which s starts at byte base.
func clustersMarked(s string, base int, spans [][2]int) []cluster {
	return styledClusters(s, base, spans, nil, nil)
}

// styledClusters is clustersMarked with styling: attrs (nil for none)
// has one attribute per byte, and links are the links, of the text of
// which s starts at byte base. A cluster takes the attributes of its
// first byte.
func styledClusters(s string, base int, spans [][2]int, attrs []styleAttr, links []link) []cluster {
	var out []cluster
	var target *hyperlink // the OSC 8 hyperlink of the link at targetOf
	targetOf := -1
	for len(links) > 0 && links[0].end <= base {
		links = links[1:]
	}
	g := uniseg.NewGraphemes(s)
	for g.Next() {
		mark := false
		from, _ := g.Positions()
		if len(spans) > 0 {
			for _, sp := range spans {
				if base+from >= sp[0] && base+from < sp[1] {
					mark = true
					break
				}
			}
		}
		rs := g.Runes()
		clean := make([]rune, 0, len(rs))
		for _, r := range rs {
			if r == '\t' {
				r = ' '
			}
			if o, keep := cleanRune(r); keep {
				clean = append(clean, o)
			}
		}
		if len(clean) == 0 {
			continue
		}
		w := g.Width()
		if clean[0] == Replacement {
			clean, w = clean[:1], 1
		}
		if w <= 0 {
			// A lone combining mark or zero-width character: give it a cell
			// of its own so it cannot merge with what we draw next to it.
			w = 1
		}
		c := cluster{runes: clean, width: w, space: clean[0] == ' ', mark: mark}
		if attrs != nil {
			c.attr = attrs[base+from]
		}
		for len(links) > 0 && links[0].end <= base+from {
			links = links[1:]
		}
		if len(links) > 0 && links[0].start <= base+from {
			c.link = true
			if links[0].web {
				if targetOf != links[0].start {
					// The text of a URL is its target; only what the
					// terminal cannot carry in OSC 8 is percent-encoded.
					target = &hyperlink{url: hyperlinkTarget(s[max(0, links[0].start-base):min(len(s), links[0].end-base)]),
						id: strconv.FormatUint(hyperlinkIDs.Add(1), 36)}
					targetOf = links[0].start
				}
				c.url = target
			}
		}
		out = append(out, c)
	}
	return out
}

// hyperlink is the OSC 8 hyperlink of a link's cells: its URL, and an
// id of its own so that a terminal takes the rows of a wrapped link for
// one link.
type hyperlink struct{ url, id string }

// hyperlinkIDs numbers hyperlinks.
var hyperlinkIDs atomic.Uint64

// hyperlinkTarget is the URL u as the terminal is told it in an OSC 8
// hyperlink: printable ASCII as it is, every other byte percent-encoded
// (an IRI's URI form).
func hyperlinkTarget(u string) string {
	var b strings.Builder
	for i := 0; i < len(u); i++ {
		if c := u[i]; c > 0x20 && c < 0x7f {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// width is the number of cells s takes.
func width(s string) int {
	n := 0
	for _, c := range clusters(s) {
		n += c.width
	}
	return n
}

// drawClusters draws cs from (x, y) within maxWidth cells and returns the
// cells used. A wide cluster that does not fit whole is not drawn.
func drawClusters(screen tcell.Screen, x, y, maxWidth int, cs []cluster, style tcell.Style) int {
	used := 0
	for _, c := range cs {
		if used+c.width > maxWidth {
			break
		}
		// tcell skips the cell after a wide character when drawing.
		st := style
		if c.attr != 0 || c.link {
			st = c.styled(st)
		}
		if c.mark {
			st = st.Bold(true).Reverse(true)
		}
		screen.SetContent(x+used, y, c.runes[0], c.runes[1:], st)
		used += c.width
	}
	return used
}

// drawText draws remote text on one line, cut to maxWidth cells, with an
// ellipsis when it does not fit.
func drawText(screen tcell.Screen, x, y, maxWidth int, s string, style tcell.Style) int {
	if maxWidth <= 0 {
		return 0
	}
	cs := clusters(s)
	total := 0
	for _, c := range cs {
		total += c.width
	}
	if total <= maxWidth {
		return drawClusters(screen, x, y, maxWidth, cs, style)
	}
	used := drawClusters(screen, x, y, maxWidth-1, cs, style)
	screen.SetContent(x+used, y, '…', nil, style)
	return used + 1
}

// fill paints a row of blanks.
func fill(screen tcell.Screen, x, y, w int, style tcell.Style) {
	for i := 0; i < w; i++ {
		screen.SetContent(x+i, y, ' ', nil, style)
	}
}

// wrap breaks cs into lines of at most w cells, at spaces where it can.
func wrap(cs []cluster, w int) [][]cluster {
	if w < 1 {
		w = 1
	}
	var lines [][]cluster
	for len(cs) > 0 {
		used, cut, lastSpace := 0, 0, -1
		for cut < len(cs) && used+cs[cut].width <= w {
			if cs[cut].space {
				lastSpace = cut
			}
			used += cs[cut].width
			cut++
		}
		if cut == 0 {
			cut = 1 // a cluster wider than the line: give it a line anyway
		} else if cut < len(cs) && !cs[cut].space && lastSpace > 0 {
			cut = lastSpace + 1
		}
		line := cs[:cut]
		for len(line) > 0 && line[len(line)-1].space {
			line = line[:len(line)-1]
		}
		lines = append(lines, line)
		cs = cs[cut:]
		for len(cs) > 0 && cs[0].space && len(lines) > 0 {
			cs = cs[1:]
		}
	}
	if len(lines) == 0 {
		lines = append(lines, nil)
	}
	return lines
}
