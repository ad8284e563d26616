// Package fsafe holds temper's file safety: atomic writes (temporary file, fsync, rename,
// folder fsync), whole-line appends, removal of the temporary files a crash left behind,
// bounded reads that refuse devices, pipes and other non-regular files, and an exclusive
// advisory lock on an output folder.
//
// Every file temper writes goes through WriteFile or AppendLine, and every file it reads
// through ReadFile or Open, so that a kill at any moment leaves either the old or the new
// content of a file, and no header can make a reader allocate more than the file holds.
// It imports nothing of temper.
package fsafe

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// ErrNotRegular is wrapped by the error of a read of a device, pipe, socket or folder.
var ErrNotRegular = errors.New("not a regular file")

// ErrTooLarge is wrapped by the error of a read of a file larger than the caller's limit.
var ErrTooLarge = errors.New("file too large")

// Error is a failed file operation: Op ("create temporary file", "sync", "rename", "read",
// ...) on Path.
type Error struct {
	Op   string
	Path string
	Err  error
}

func (e *Error) Error() string { return e.Op + " " + e.Path + ": " + e.Err.Error() }

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// tempMarker is in the name of every temporary file WriteFile creates: ".BASE.tmp-RANDOM".
const tempMarker = ".tmp-"

// IsTemp reports whether name (a base name) is one of WriteFile's temporary files.
func IsTemp(name string) bool {
	return strings.HasPrefix(name, ".") && strings.Contains(name, tempMarker)
}

// WriteFile writes a file atomically: write fills a temporary file ".BASE.tmp-*" next to
// path, which is synced, closed and renamed over path; then the folder is synced so the
// rename survives a power loss. A crash or a full disk leaves either the old content of
// path or the new one, never a part; on error the temporary file is removed (a kill
// leaves it behind, and RemoveStale removes it at the next run). The file gets mode 0644.
func WriteFile(path string, write func(io.Writer) error) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+tempMarker+"*")
	if err != nil {
		return &Error{"create temporary file for", path, err}
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err := write(f); err != nil {
		return &Error{"write", tmp, err}
	}
	if err := f.Chmod(0o644); err != nil {
		return &Error{"chmod", tmp, err}
	}
	if err := f.Sync(); err != nil {
		return &Error{"sync", tmp, err}
	}
	if err := f.Close(); err != nil {
		return &Error{"close", tmp, err}
	}
	if err := os.Rename(tmp, path); err != nil {
		return &Error{"rename " + tmp + " to", path, err}
	}
	syncDir(dir)
	return nil
}

// WriteBytes is WriteFile of b.
func WriteBytes(path string, b []byte) error {
	return WriteFile(path, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
}

// syncDir makes a rename in dir durable. Some platforms cannot sync a folder; the file is
// complete at its path by then, so a failure is not reported.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// AppendLine appends line (which must end in '\n') to path with one write and syncs it,
// creating the file if needed. If the write fails part-way (a full disk) the file is cut
// back to its previous length, so it only ever holds whole lines.
func AppendLine(path string, line []byte) error {
	if len(line) == 0 || line[len(line)-1] != '\n' {
		return &Error{"append to", path, errors.New("line does not end in a newline")}
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return &Error{"open", path, err}
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return &Error{"stat", path, err}
	}
	if _, err := f.Write(line); err != nil {
		f.Truncate(st.Size())
		f.Close()
		return &Error{"append to", path, err}
	}
	if err := f.Sync(); err != nil {
		f.Truncate(st.Size())
		f.Close()
		return &Error{"sync", path, err}
	}
	if err := f.Close(); err != nil {
		return &Error{"close", path, err}
	}
	return nil
}

// RemoveStale removes the temporary files of WriteFile (".*.tmp-*") that a killed
// process left in dir and returns their names. Call it only while holding dir's Lock:
// another process's temporary file in progress would go too.
func RemoveStale(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, &Error{"read folder", dir, err}
	}
	var removed []string
	for _, e := range entries {
		if !e.Type().IsRegular() || !IsTemp(e.Name()) {
			continue
		}
		if err := os.Remove(filepath.Join(dir, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return removed, &Error{"remove stale temporary file", filepath.Join(dir, e.Name()), err}
		}
		removed = append(removed, e.Name())
	}
	return removed, nil
}

// Open opens path for reading if it is a regular file (symbolic links followed) of at
// most max bytes, and returns it with its size. A device (/dev/zero), pipe, socket or
// folder is refused with ErrNotRegular, a larger file with ErrTooLarge: a reader that
// trusts the size never reads without bound.
func Open(path string, max int64) (*os.File, int64, error) {
	// Stat before opening: opening a named pipe would block until a writer came.
	st, err := os.Stat(path)
	if err != nil {
		return nil, 0, err // *fs.PathError, so errors.Is(err, fs.ErrNotExist) works
	}
	if err := regular(path, st, max); err != nil {
		return nil, 0, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	if st, err = f.Stat(); err != nil {
		f.Close()
		return nil, 0, &Error{"stat", path, err}
	}
	if err := regular(path, st, max); err != nil { // replaced between Stat and Open
		f.Close()
		return nil, 0, err
	}
	return f, st.Size(), nil
}

func regular(path string, st fs.FileInfo, max int64) error {
	if m := st.Mode(); !m.IsRegular() {
		kind := "not a file (" + m.Type().String() + ")"
		switch {
		case m.IsDir():
			kind = "a folder"
		case m&fs.ModeDevice != 0:
			kind = "a device"
		case m&fs.ModeNamedPipe != 0:
			kind = "a named pipe"
		case m&fs.ModeSocket != 0:
			kind = "a socket"
		}
		return &Error{"read", path, fmt.Errorf("%w: it is %s", ErrNotRegular, kind)}
	}
	if max >= 0 && st.Size() > max {
		return &Error{"read", path, fmt.Errorf("%w: %d bytes, more than the limit of %d", ErrTooLarge, st.Size(), max)}
	}
	return nil
}

// ReadFile reads the whole of path, a regular file of at most max bytes (max < 0: no
// limit but the file's size). It allocates the size the file has, not more, and fails if
// the file changes size while it is read.
func ReadFile(path string, max int64) ([]byte, error) {
	f, size, err := Open(path, max)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b := make([]byte, size)
	if _, err := io.ReadFull(f, b); err != nil {
		return nil, &Error{"read", path, fmt.Errorf("the file shrank while read: %w", err)}
	}
	var one [1]byte
	if n, _ := f.Read(one[:]); n > 0 {
		return nil, &Error{"read", path, errors.New("the file grew while read")}
	}
	return b, nil
}
