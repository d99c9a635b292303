package config

import (
	"fmt"
	"os"
	"strings"
)

// Problem is one thing wrong with a configuration file. Line is 0 when the
// problem is about the file as a whole.
type Problem struct {
	File string
	Line int
	Msg  string
}

func (p Problem) Error() string {
	if p.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Msg)
	}
	return fmt.Sprintf("%s: %s", p.File, p.Msg)
}

// Problems is every problem found while loading; it is an error when it is
// not empty.
type Problems []Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.Error()
	}
	return strings.Join(lines, "\n")
}

// Err returns ps as an error, or nil when there are no problems.
func (ps Problems) Err() error {
	if len(ps) == 0 {
		return nil
	}
	return ps
}

// writableByOthers reports a file that runs a command (what, set at line)
// while its group or others may change it: whoever can write the file can
// make gab run anything as you.
func writableByOthers(file string, line int, what string) (Problem, bool) {
	st, err := os.Stat(file)
	if err != nil || st.Mode().Perm()&0o022 == 0 {
		return Problem{}, false
	}
	return Problem{File: file, Line: line, Msg: fmt.Sprintf(
		"sets %s, which gab runs, but others can change the file (mode %04o); run: chmod go-w %s",
		what, st.Mode().Perm(), file)}, true
}
