package xmpp

import (
	"encoding/xml"
	"strings"
)

// lexer follows the bytes the XML decoder consumes, just enough to know
// how deep the element being read is, how long its tag is and how many
// attributes it has so far. With it a limit can stop the decoder inside a
// token, and the rest of a stanza can be skipped without the decoder,
// whose memory grows with what it parses. It trusts the decoder for
// well-formedness: on malformed input it may disagree with it, but the
// decoder has by then ended the stream.
type lexer struct {
	state lexState
	depth int  // open elements, the stream header included
	quote byte // the quote that opened the attribute value being read, 0 outside one
	prev  byte // the byte before, inside a tag and outside quotes
	tail  [2]byte
	tag   int // bytes of the current tag so far
	attrs int // attributes of the current start tag so far
	// name is the start of the current top-level start tag's name.
	name   [64]byte
	nameN  int
	inName bool
}

type lexState uint8

const (
	lText     lexState = iota
	lOpen              // after "<"
	lStart             // in a start tag
	lEnd               // in an end tag
	lBang              // after "<!"
	lBangDash          // after "<!-"
	lComment           // in <!-- -->
	lCDATA             // in <![CDATA[ ]]>
	lDecl              // in another <!...> (the decoder refuses it)
	lPI                // in <? ?>
)

// What a byte completed.
const (
	lexNone   = iota
	lexOpened // a start tag: depth is one more
	lexEmpty  // an empty-element tag: depth unchanged
	lexClosed // an end tag: depth is one less
	lexOther  // a comment, CDATA section, processing instruction or declaration
)

func (l *lexer) step(c byte) int {
	switch l.state {
	case lText:
		if c == '<' {
			l.state, l.tag, l.attrs = lOpen, 1, 0
			if l.depth == 1 {
				l.nameN = 0
			}
		}
	case lOpen:
		l.tag++
		switch c {
		case '/':
			l.state = lEnd
		case '!':
			l.state = lBang
		case '?':
			l.state, l.tail = lPI, [2]byte{}
		default:
			l.state, l.quote, l.prev = lStart, 0, c
			l.inName = l.depth == 1
			l.nameN = 0
			l.addName(c)
		}
	case lStart:
		l.tag++
		if l.quote != 0 {
			if c == l.quote {
				l.quote, l.prev = 0, c
			}
			return lexNone
		}
		switch c {
		case '"', '\'':
			l.quote = c
		case '=':
			l.attrs++
		case '>':
			l.state, l.inName = lText, false
			if l.prev == '/' {
				return lexEmpty
			}
			l.depth++
			return lexOpened
		}
		l.addName(c)
		l.prev = c
	case lEnd:
		l.tag++
		if c == '>' {
			l.state = lText
			l.depth--
			return lexClosed
		}
	case lBang:
		switch c {
		case '-':
			l.state = lBangDash
		case '[':
			l.state, l.tail = lCDATA, [2]byte{}
		default:
			l.state = lDecl
		}
	case lBangDash:
		l.state, l.tail = lComment, [2]byte{}
	case lComment:
		if c == '>' && l.tail == [2]byte{'-', '-'} {
			l.state = lText
			return lexOther
		}
		l.tail = [2]byte{l.tail[1], c}
	case lCDATA:
		if c == '>' && l.tail == [2]byte{']', ']'} {
			l.state = lText
			return lexOther
		}
		l.tail = [2]byte{l.tail[1], c}
	case lDecl:
		if c == '>' {
			l.state = lText
			return lexOther
		}
	case lPI:
		if c == '>' && l.tail[1] == '?' {
			l.state = lText
			return lexOther
		}
		l.tail = [2]byte{l.tail[1], c}
	}
	return lexNone
}

func (l *lexer) addName(c byte) {
	if !l.inName {
		return
	}
	switch c {
	case ' ', '\t', '\r', '\n', '/', '>':
		l.inName = false
		return
	}
	if l.nameN < len(l.name) {
		l.name[l.nameN] = c
		l.nameN++
	}
}

// topName is the name of the top-level element whose start tag was being
// read, its prefix resolved with the stream header's declarations (an
// xmlns of its own, in a tag cut off before it was read, is not seen).
func (l *lexer) topName(space map[string]string) xml.Name {
	if l.depth > 1 || l.depth == 1 && l.state != lOpen && l.state != lStart {
		return xml.Name{} // inside a stanza, or between stanzas: no tag being read
	}
	raw := string(l.name[:l.nameN])
	if raw == "" {
		return xml.Name{}
	}
	if i := strings.IndexByte(raw, ':'); i >= 0 {
		return xml.Name{Space: space[raw[:i]], Local: raw[i+1:]}
	}
	return xml.Name{Space: space[""], Local: raw}
}
