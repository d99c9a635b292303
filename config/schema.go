package config

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"
)

// kind is the TOML type a key must have.
type kind int

const (
	kindString kind = iota
	kindInt
	kindBool
	kindTable
	kindStrings // a string or an array of strings; set gets []string
	kindArgv    // a command: a line split into words (SplitCommand) or an array of words; set gets []string
)

func (k kind) String() string {
	switch k {
	case kindInt:
		return "an integer"
	case kindBool:
		return "true or false"
	case kindTable:
		return "a table"
	case kindStrings:
		return "a string or an array of strings"
	case kindArgv:
		return "a command line or an array of its words"
	}
	return "a string"
}

// field describes one key a file may hold and where its value goes.
type field struct {
	kind kind
	set  func(v any) error // v has the Go type matching kind
}

// decodeFile parses data as TOML and assigns every key through fields.
// Tables are addressed as "table.key". Every problem is reported with the
// line of the key it is about; decoding goes on past a bad key so that one
// run of --check lists everything.
func decodeFile(file string, data []byte, fields map[string]field) Problems {
	var raw map[string]any
	if _, err := toml.Decode(string(data), &raw); err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return Problems{{File: file, Line: pe.Position.Line, Msg: "syntax error: " + pe.Message}}
		}
		return Problems{{File: file, Msg: err.Error()}}
	}
	lines := keyLines(data)
	var probs Problems
	walk(raw, "", func(key string, v any) {
		line := lines[key]
		f, ok := fields[key]
		if !ok {
			// A table whose name is known is walked into; anything else is a typo.
			msg := fmt.Sprintf("unknown key %q", key)
			if s := suggest(key, fields); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			probs = append(probs, Problem{File: file, Line: line, Msg: msg})
			return
		}
		if !hasKind(v, f.kind) {
			probs = append(probs, Problem{File: file, Line: line, Msg: fmt.Sprintf("%s must be %s, not %s", key, f.kind, describe(v))})
			return
		}
		if f.set == nil {
			return
		}
		if f.kind == kindStrings {
			v = stringList(v)
		}
		if f.kind == kindArgv {
			if text, ok := v.(string); ok {
				words, err := SplitCommand(text)
				if err != nil {
					probs = append(probs, Problem{File: file, Line: line, Msg: fmt.Sprintf("%s: %v", key, err)})
					return
				}
				v = words
			} else {
				v = stringList(v)
			}
		}
		if err := f.set(v); err != nil {
			probs = append(probs, Problem{File: file, Line: line, Msg: fmt.Sprintf("%s: %v", key, err)})
		}
	}, fields)
	sort.SliceStable(probs, func(i, j int) bool { return probs[i].Line < probs[j].Line })
	return probs
}

// walk calls fn for every leaf key, descending into tables the schema knows.
func walk(m map[string]any, prefix string, fn func(key string, v any), fields map[string]field) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		full := prefix + k
		if sub, ok := m[k].(map[string]any); ok {
			if f, known := fields[full]; known && f.kind == kindTable {
				walk(sub, full+".", fn, fields)
				continue
			}
		}
		fn(full, m[k])
	}
}

func hasKind(v any, k kind) bool {
	switch k {
	case kindString:
		_, ok := v.(string)
		return ok
	case kindInt:
		_, ok := v.(int64)
		return ok
	case kindBool:
		_, ok := v.(bool)
		return ok
	case kindTable:
		_, ok := v.(map[string]any)
		return ok
	case kindStrings, kindArgv:
		if _, ok := v.(string); ok {
			return true
		}
		xs, ok := v.([]any)
		for _, x := range xs {
			if _, isString := x.(string); !isString {
				return false
			}
		}
		return ok
	}
	return false
}

// stringList is a kindStrings value as a slice.
func stringList(v any) []string {
	if s, ok := v.(string); ok {
		return []string{s}
	}
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

func describe(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case int64:
		return "an integer"
	case float64:
		return "a float"
	case bool:
		return "a boolean"
	case []any, []map[string]any:
		return "an array"
	case map[string]any:
		return "a table"
	}
	return fmt.Sprintf("%T", v)
}

// keyLines maps "table.key" (or "key" at the top) to the line it is defined
// on. The TOML decoder does not expose key positions, and gab's files are
// simple: top-level keys and [table] headers, no inline or array tables.
func keyLines(data []byte) map[string]int {
	lines := map[string]int{}
	table := ""
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		if line[0] == '[' {
			name := strings.Trim(strings.SplitN(line, "#", 2)[0], "[] \t")
			table = unquoteKey(name)
			if _, seen := lines[table]; !seen {
				lines[table] = n
			}
			continue
		}
		eq := strings.IndexByte(line, '=')
		if eq <= 0 {
			continue
		}
		key := unquoteKey(strings.TrimSpace(line[:eq]))
		if table != "" {
			key = table + "." + key
		}
		if _, seen := lines[key]; !seen {
			lines[key] = n
		}
	}
	return lines
}

func unquoteKey(k string) string {
	parts := strings.Split(k, ".")
	for i, p := range parts {
		parts[i] = strings.Trim(strings.TrimSpace(p), `"'`)
	}
	return strings.Join(parts, ".")
}

// suggest returns the known key closest to a misspelt one, if any is close.
func suggest(key string, fields map[string]field) string {
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	sort.Strings(names)
	best, bestDist := "", 3
	for _, k := range names {
		if d := editDistance(key, k); d < bestDist {
			best, bestDist = k, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
