package fsafe

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// LockFile is the name of the lock file Lock keeps in a folder.
const LockFile = ".temper.lock"

// ErrLocked is wrapped by the error of Lock on a folder another process holds.
var ErrLocked = errors.New("in use by another run")

// LockedError says who holds a folder's lock, as the holder wrote it: "pid 1234 on host
// h, since 2026-12-06T21:40:00Z: temper train --out runs/x".
type LockedError struct {
	Dir    string
	Holder string
}

func (e *LockedError) Error() string {
	h := e.Holder
	if h == "" {
		h = "an unknown process"
	}
	return fmt.Sprintf("%s is %v: held by %s", e.Dir, ErrLocked, h)
}

// Unwrap returns ErrLocked.
func (e *LockedError) Unwrap() error { return ErrLocked }

// Lock is an exclusive advisory lock on a folder (flock(2) on DIR/.temper.lock on Unix).
// The kernel releases it when the process ends, however it ends, so a crashed holder
// never leaves a stale lock to remove by hand. Other platforms get an informative lock
// file only.
type Lock struct {
	f *os.File
}

// LockDir creates dir if needed and takes its lock without waiting. If another process
// holds it the error is a *LockedError naming that holder. holder describes this process
// (e.g. the command line); the lock file records it with the pid, host and time.
func LockDir(dir, holder string) (*Lock, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, &Error{"create folder", dir, err}
	}
	path := filepath.Join(dir, LockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, &Error{"open lock file", path, err}
	}
	ok, err := tryLock(f)
	if err != nil {
		f.Close()
		return nil, &Error{"lock", path, err}
	}
	if !ok {
		b := make([]byte, 4096)
		n, _ := f.ReadAt(b, 0)
		f.Close()
		return nil, &LockedError{Dir: dir, Holder: strings.TrimSpace(string(b[:n]))}
	}
	host, _ := os.Hostname()
	info := fmt.Sprintf("pid %d on host %s, since %s: %s\n", os.Getpid(), host, time.Now().UTC().Format(time.RFC3339), holder)
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(info), 0)
	}
	return &Lock{f: f}, nil
}

// Unlock releases the lock. The lock file stays (removing it would race with a process
// about to lock it); a nil Lock is a no-op.
func (l *Lock) Unlock() error {
	if l == nil || l.f == nil {
		return nil
	}
	l.f.Truncate(0)
	err := unlock(l.f)
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	l.f = nil
	return err
}
