package ui

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/gab-chat/gab/chat"
)

// The rows drawn around a message's body: the message it answers above
// it, the file it shares and the reactions on it below, and in place of
// the body of a removed message a tombstone. All of it is remote text,
// made into clusters (so markup and controls in it are inert) and cut or
// wrapped to the width like the body.

// rowPart says what a row around a message shows, for its style.
type rowPart uint8

const (
	partBody      rowPart = iota
	partQuote             // the message answered: "↱ NAME: first line"
	partFile              // "📎 NAME (1.2 MB)"
	partReactions         // "👍 3  [❤ 1]"
	partTombstone         // the body of a retracted or moderated message
)

// maxEmoji is the most cells one reaction's emoji takes on the screen: a
// reaction is one emoji, but what a peer sends is not checked here.
const maxEmoji = 4

// tombstone is what shows instead of a removed message's body.
func tombstone(r *chat.Retraction) string {
	if !r.Moderated {
		return "message retracted"
	}
	text := "removed by a moderator"
	if r.By != "" {
		text = "removed by " + firstLine(r.By)
	}
	if r.Reason != "" {
		text += ": " + firstLine(r.Reason)
	}
	return text
}

// firstLine is s up to its first line break.
func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return strings.TrimSuffix(s, "\r")
}

// quoteText is the row above a reply. The author and first line of the
// message answered are shown as such only when it is in the history;
// else the quote is the sender's fallback, which could put any words in
// anyone's mouth, and the row says it is only quoted.
func quoteText(r *chat.ReplyInfo) string {
	quote := firstLine(r.Quote)
	switch {
	case r.StoreID == 0 && r.Author != "" && quote != "":
		return "↱ in reply to " + firstLine(r.Author) + ", quoted as: " + quote
	case r.StoreID == 0 && quote != "":
		return "↱ quoted as: " + quote
	case r.Author != "" && quote != "":
		return "↱ " + firstLine(r.Author) + ": " + quote
	case r.Author != "":
		return "↱ in reply to " + firstLine(r.Author)
	case quote != "":
		return "↱ " + quote
	}
	return "↱ in reply to an earlier message"
}

// fileText is a shared file's row.
func fileText(f *chat.FileInfo) string {
	name := f.Name
	if name == "" {
		name = hideKeys(f.URL)
	}
	if f.Size > 0 {
		return "📎 " + firstLine(name) + " (" + sizeText(f.Size) + ")"
	}
	return "📎 " + firstLine(name)
}

// fileClusters is a file's row in w cells: a long name is cut, the size
// kept.
func fileClusters(f *chat.FileInfo, w int) []cluster {
	name := f.Name
	if name == "" {
		name = hideKeys(f.URL)
	}
	size := ""
	if f.Size > 0 {
		size = " (" + sizeText(f.Size) + ")"
	}
	icon := clusters("📎 ")
	room := w - width(size)
	for _, c := range icon {
		room -= c.width
	}
	out := append(icon, cutClusters(clusters(firstLine(name)), max(1, room))...)
	return cutClusters(append(out, clusters(size)...), w)
}

// sizeText writes a byte count as people read it: "1 byte", "980 bytes",
// "1.2 MB".
func sizeText(n int64) string {
	if n == 1 {
		return "1 byte"
	}
	if n < 1000 {
		return strconv.FormatInt(n, 10) + " bytes"
	}
	units := []string{"kB", "MB", "GB", "TB"}
	v, i := float64(n)/1000, 0
	for v >= 999.95 && i < len(units)-1 {
		v, i = v/1000, i+1
	}
	return fmt.Sprintf("%.1f %s", v, units[i])
}

// maxShownReactions is the most distinct reactions shown under one
// message: a flood of them (from many accounts, or an occupant changing
// nick in a room without occupant-ids) would otherwise take the screen.
const maxShownReactions = 24

// shownReactions are the reactions a tally shows: all of them, or when
// there are more than maxShownReactions, ours and then the most given, in
// their order, and how many are left out.
func shownReactions(rs []chat.Reaction) ([]chat.Reaction, int) {
	if len(rs) <= maxShownReactions {
		return rs, 0
	}
	order := make([]int, len(rs))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool {
		ra, rb := rs[order[a]], rs[order[b]]
		if ra.Own != rb.Own {
			return ra.Own
		}
		return ra.Count > rb.Count
	})
	keep := order[:maxShownReactions]
	sort.Ints(keep)
	out := make([]chat.Reaction, len(keep))
	for i, k := range keep {
		out[i] = rs[k]
	}
	// The most given first, as the tally is read from the left.
	sort.SliceStable(out, func(a, b int) bool { return out[a].Count > out[b].Count })
	return out, len(rs) - maxShownReactions
}

// reactionClusters is the tally under a message, our own in brackets (a
// mark that needs no colour): "👍 3  [❤ 1]".
func reactionClusters(all []chat.Reaction) []cluster {
	var out []cluster
	gap := clusters("  ")
	rs, more := shownReactions(all)
	for i, r := range rs {
		if i > 0 {
			out = append(out, gap...)
		}
		// One reaction stays on one row: the spaces inside it do not break.
		var one []cluster
		if r.Own {
			one = append(one, clusters("[")...)
		}
		one = append(one, cutClusters(clusters(firstLine(r.Emoji)), maxEmoji)...)
		one = append(one, clusters("\u00a0"+strconv.Itoa(r.Count))...)
		if r.Own {
			one = append(one, clusters("]")...)
		}
		out = append(out, one...)
	}
	if more > 0 {
		out = append(out, gap...)
		out = append(out, clusters("+"+strconv.Itoa(more)+" more")...)
	}
	return out
}

// cutClusters keeps what fits in w cells, ending with "…" when cut.
func cutClusters(cs []cluster, w int) []cluster {
	total := 0
	for _, c := range cs {
		total += c.width
	}
	if total <= w {
		return cs
	}
	used, n := 0, 0
	for n < len(cs) && used+cs[n].width <= w-1 {
		used += cs[n].width
		n++
	}
	return append(cs[:n:n], cluster{runes: []rune{'…'}, width: 1})
}

// extrasSig sums up what the rows around a line's body show, so that
// the wrap cache is redrawn when any of it changes, whoever changed it.
func extrasSig(l *Line) uint64 {
	if l.Reply == nil && l.File == nil && l.Retracted == nil && len(l.Reactions) == 0 {
		return 0
	}
	h := uint64(14695981039346656037) // FNV-1a, without allocating
	put := func(parts ...string) {
		for _, p := range parts {
			for i := 0; i < len(p); i++ {
				h = (h ^ uint64(p[i])) * 1099511628211
			}
			h = (h ^ 0xff) * 1099511628211 // 0xff never occurs in UTF-8: a separator
		}
	}
	if r := l.Reply; r != nil {
		put("reply", r.Author, r.Quote)
	}
	if f := l.File; f != nil {
		put("file", f.Name, f.URL, strconv.FormatInt(f.Size, 10))
	}
	if r := l.Retracted; r != nil {
		put("retracted", strconv.FormatBool(r.Moderated), r.By, r.Reason)
	}
	for _, r := range l.Reactions {
		put(r.Emoji, strconv.Itoa(r.Count), strconv.FormatBool(r.Own))
	}
	return h | 1
}

// aroundRows adds to a message's rows (its first row carries the time
// and sender) the quote above, and the file and reactions below, each
// starting at column indent (relative to the row) and cut or wrapped to
// the w cells of the view.
func aroundRows(l *Line, rows []row, w, indent int) []row {
	if l.Retracted != nil {
		return rows // a tombstone keeps nothing of the message
	}
	room := max(1, w-indent)
	if l.File != nil {
		file := func(w int) []cluster { return fileClusters(l.File, w) }
		first := &rows[0] // the message's own first row (the quote comes after)
		if len(rows) == 1 && len(first.body) == 0 {
			// A file without text: on the message's row.
			prefix := width(first.time) + 1
			for _, c := range first.sender {
				prefix += c.width
			}
			first.body, first.part = file(max(1, w-prefix)), partFile
		} else {
			rows = append(rows, row{body: file(room), kind: l.Kind, indent: indent, part: partFile})
		}
	}
	if l.Reply != nil {
		q := row{body: cutClusters(clusters(hideKeys(quoteText(l.Reply))), room), kind: l.Kind, indent: indent, part: partQuote}
		rows = append([]row{q}, rows...)
	}
	if len(l.Reactions) > 0 {
		for _, part := range wrap(reactionClusters(l.Reactions), room) {
			rows = append(rows, row{body: part, kind: l.Kind, indent: indent, part: partReactions})
		}
	}
	return rows
}
