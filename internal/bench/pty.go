package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Through tmux, a launch is timed with its polling in it: tmux reads the
// program's output, and the screen is read back through another process
// (an echo takes 50–60 ms that way here). On a pseudo-terminal of its own,
// gab's output is read as it writes it: the time from starting the
// process to the bytes of a frame arriving.

// openPTY opens a pseudo-terminal of cols×rows: the controlling side and
// the terminal's name.
func openPTY(cols, rows int) (*os.File, string, error) {
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, "", err
	}
	fd := int(m.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		m.Close()
		return nil, "", fmt.Errorf("unlocking the pseudo-terminal: %w", err)
	}
	n, err := unix.IoctlGetUint32(fd, unix.TIOCGPTN)
	if err != nil {
		m.Close()
		return nil, "", fmt.Errorf("naming the pseudo-terminal: %w", err)
	}
	if err := unix.IoctlSetWinsize(fd, unix.TIOCSWINSZ, &unix.Winsize{Row: uint16(rows), Col: uint16(cols)}); err != nil {
		m.Close()
		return nil, "", fmt.Errorf("sizing the pseudo-terminal: %w", err)
	}
	return m, fmt.Sprintf("/dev/pts/%d", n), nil
}

// ptyLaunch is one launch of gab on a pseudo-terminal of its own.
type ptyLaunch struct {
	drawn time.Duration // from starting the process to the mark written
	quit  time.Duration // from Ctrl+Q to the process gone
}

// launchOnPTY starts gab with the configuration in dir on a 160×50
// pseudo-terminal, times the first appearance of mark in what it writes,
// then quits it with Ctrl+Q once the machine is quiet again.
func launchOnPTY(gab, dir string, mark []byte, quiet func(pid int) error) (ptyLaunch, error) {
	var l ptyLaunch
	m, name, err := openPTY(160, 50)
	if err != nil {
		return l, err
	}
	defer m.Close()
	tty, err := os.OpenFile(name, os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		return l, err
	}
	cmd := exec.Command(gab, "--config", filepath.Join(dir, "config"), "--data", filepath.Join(dir, "data"))
	cmd.Env = append(os.Environ(), "TERM=xterm-256color")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	seen := make(chan time.Time, 1)
	var out bytes.Buffer
	read := make(chan struct{})
	start := time.Now()
	if err := cmd.Start(); err != nil {
		tty.Close()
		return l, err
	}
	tty.Close()
	go func() {
		defer close(read)
		buf := make([]byte, 64<<10)
		found := false
		for {
			n, err := m.Read(buf)
			if n > 0 && !found {
				out.Write(buf[:n])
				if bytes.Contains(out.Bytes(), mark) {
					found = true
					seen <- time.Now()
				}
			}
			if err != nil {
				return
			}
		}
	}()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case at := <-seen:
		l.drawn = at.Sub(start)
	case err := <-exited:
		return l, fmt.Errorf("gab exited before drawing %q: %v", mark, err)
	case <-time.After(time.Minute):
		cmd.Process.Kill()
		<-exited
		return l, fmt.Errorf("gab had not drawn %q after a minute", mark)
	}
	if err := quiet(cmd.Process.Pid); err != nil {
		cmd.Process.Kill()
		<-exited
		return l, err
	}
	q := time.Now()
	if _, err := m.Write([]byte{0x11}); err != nil { // Ctrl+Q
		cmd.Process.Kill()
		<-exited
		return l, err
	}
	select {
	case err := <-exited:
		l.quit = time.Since(q)
		if err != nil {
			return l, fmt.Errorf("gab on a pseudo-terminal: %w", err)
		}
	case <-time.After(time.Minute):
		cmd.Process.Kill()
		<-exited
		return l, fmt.Errorf("gab had not quit a minute after Ctrl+Q")
	}
	m.Close()
	<-read
	return l, nil
}
