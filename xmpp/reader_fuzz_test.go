package xmpp

import (
	"errors"
	"strings"
	"testing"
)

// FuzzReaderSkip checks that skipping a dropped stanza ends where the XML
// decoder would have ended it: a stream read with tight limits (so that
// many stanzas are dropped and skipped byte by byte) must yield, for every
// stanza it keeps, the element a reader with loose limits yields at the
// same place.
func FuzzReaderSkip(f *testing.F) {
	for _, s := range []string{
		`<message a='>' b="/>"><body>hi</body></message><iq id='1'/>`,
		`<message><!-- </message> --><?pi ?><![CDATA[</message>]]><x><y><z><w/></z></y></x></message><presence/>`,
		`<message a='1' b='2' c='3' d='4'/><message id='123456789'/><m/>`,
		`<iq id='x'><q xmlns='urn:q' v='` + strings.Repeat("v", 100) + `'/></iq><message/>`,
		` <message/> <presence><status>` + strings.Repeat("s", 300) + `</status></presence> <iq/>`,
	} {
		f.Add(s)
	}
	tight := Limits{MaxDepth: 3, MaxBytes: 200, HardBytes: 1 << 20, MaxAttrs: 3, MaxTagBytes: 60, MaxIDBytes: 8}
	loose := Limits{MaxDepth: 1 << 20, MaxBytes: 1 << 20, HardBytes: 1 << 20, MaxAttrs: 1 << 20, MaxTagBytes: 1 << 20, MaxIDBytes: 1 << 20}
	outcomes := func(body string, lim Limits) []string {
		r := NewReader(strings.NewReader(header+body), lim)
		if _, err := r.StreamStart(); err != nil {
			return nil
		}
		var out []string
		for range 200 {
			el, err := r.Next()
			var de *DroppedError
			switch {
			case errors.As(err, &de):
				out = append(out, "dropped")
			case err != nil:
				return append(out, "error")
			default:
				out = append(out, el.String())
			}
		}
		return out
	}
	f.Fuzz(func(t *testing.T, body string) {
		a, b := outcomes(body, loose), outcomes(body, tight)
		for i := 0; i < len(a) && i < len(b); i++ {
			if a[i] == "error" {
				return // the stream is broken there: tight limits may have skipped past it
			}
			if b[i] != "dropped" && b[i] != a[i] {
				t.Fatalf("stanza %d: tight limits read %q, loose limits %q", i, b[i], a[i])
			}
		}
	})
}
