package ui

import (
	"crypto/sha1"
	"encoding/binary"

	"github.com/gab-chat/gab/roster"
	"github.com/gdamore/tcell/v2"
	"github.com/lucasb-eyer/go-colorful"
)

// nameColor is a JID's stable colour (XEP-0392: the hue is the first two
// bytes of the SHA-1 of the JID, read little-endian, over 65536 turns; the
// colour is that hue in HSLuv at full saturation and half lightness).
func nameColor(key string) tcell.Color {
	sum := sha1.Sum([]byte(key))
	hue := float64(binary.LittleEndian.Uint16(sum[:2])) / 65536 * 360
	c := colorful.HSLuv(hue, 1.0, 0.6).Clamped()
	r, g, b := c.RGB255()
	return tcell.NewRGBColor(int32(r), int32(g), int32(b))
}

// showMark is the mark and colour of a presence in the roster.
func showMark(s roster.Show) (rune, tcell.Color) {
	switch s {
	case roster.Chat:
		return '●', theme.Online
	case roster.Online:
		return '●', theme.Online
	case roster.Away:
		return '◐', theme.Away
	case roster.XA:
		return '◑', theme.XA
	case roster.DND:
		return '⊘', theme.DND
	}
	return '○', theme.Offline
}
