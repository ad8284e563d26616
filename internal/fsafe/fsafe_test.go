package fsafe

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.json")
	if err := WriteBytes(p, []byte("old\n")); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := WriteFile(p, func(w io.Writer) error {
		w.Write([]byte("half"))
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want boom", err)
	}
	if b, _ := os.ReadFile(p); string(b) != "old\n" {
		t.Fatalf("content after a failed write = %q, want the old one", b)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("folder holds %d files after a failed write, want 1 (no temporary file left)", len(entries))
	}
}

func TestRemoveStale(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{".checkpoint.safetensors.tmp-123", ".summary.json.tmp-9", "keep.json", ".hidden", "x.tmp-1"} {
		os.WriteFile(filepath.Join(dir, n), []byte("x"), 0o644)
	}
	got, err := RemoveStale(dir)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, ",") != ".checkpoint.safetensors.tmp-123,.summary.json.tmp-9" {
		t.Fatalf("removed %v", got)
	}
	left, _ := os.ReadDir(dir)
	if len(left) != 3 {
		t.Fatalf("%d files left, want 3", len(left))
	}
}

func TestAppendLine(t *testing.T) {
	p := filepath.Join(t.TempDir(), "m.jsonl")
	for _, l := range []string{"{\"a\":1}\n", "{\"a\":2}\n"} {
		if err := AppendLine(p, []byte(l)); err != nil {
			t.Fatal(err)
		}
	}
	if err := AppendLine(p, []byte("no newline")); err == nil {
		t.Fatal("a line without a newline was appended")
	}
	if b, _ := os.ReadFile(p); string(b) != "{\"a\":1}\n{\"a\":2}\n" {
		t.Fatalf("content %q", b)
	}
}

func TestReadFileBounded(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("needs /dev/zero")
	}
	if _, err := ReadFile("/dev/zero", -1); !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), "a device") {
		t.Fatalf("ReadFile(/dev/zero) err = %v, want ErrNotRegular naming a device", err)
	}
	dir := t.TempDir()
	if _, err := ReadFile(dir, -1); !errors.Is(err, ErrNotRegular) {
		t.Fatalf("ReadFile(folder) err = %v, want ErrNotRegular", err)
	}
	link := filepath.Join(dir, "z")
	os.Symlink("/dev/zero", link)
	if _, err := ReadFile(link, -1); !errors.Is(err, ErrNotRegular) {
		t.Fatalf("ReadFile(link to /dev/zero) err = %v, want ErrNotRegular", err)
	}
	p := filepath.Join(dir, "f")
	os.WriteFile(p, make([]byte, 100), 0o644)
	if _, err := ReadFile(p, 99); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("ReadFile over the limit err = %v, want ErrTooLarge", err)
	}
	if b, err := ReadFile(p, 100); err != nil || len(b) != 100 {
		t.Fatalf("ReadFile = %d bytes, %v", len(b), err)
	}
}

func TestLockExclusive(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	l, err := LockDir(dir, "temper train --out out")
	if err != nil {
		t.Fatal(err)
	}
	_, err = LockDir(dir, "second")
	var le *LockedError
	if !errors.As(err, &le) || !errors.Is(err, ErrLocked) {
		t.Fatalf("second LockDir err = %v, want a *LockedError", err)
	}
	if !strings.Contains(err.Error(), "temper train --out out") || !strings.Contains(err.Error(), "pid ") {
		t.Fatalf("error %q does not name the holder", err)
	}
	if err := l.Unlock(); err != nil {
		t.Fatal(err)
	}
	l2, err := LockDir(dir, "third")
	if err != nil {
		t.Fatalf("LockDir after Unlock: %v", err)
	}
	l2.Unlock()
}

// TestLockReleasedByCrash kills a process holding the lock with SIGKILL: the lock is free
// at once, with no manual step.
func TestLockReleasedByCrash(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("flock only")
	}
	if d := os.Getenv("FSAFE_HOLD"); d != "" {
		if _, err := LockDir(d, "holder child"); err != nil {
			os.Exit(3)
		}
		os.Stdout.Write([]byte("locked\n"))
		time.Sleep(time.Minute)
		os.Exit(0)
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestLockReleasedByCrash$")
	cmd.Env = append(os.Environ(), "FSAFE_HOLD="+dir)
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 7)
	if _, err := io.ReadFull(out, buf); err != nil || string(buf) != "locked\n" {
		t.Fatalf("child did not lock: %q %v", buf, err)
	}
	if _, err := LockDir(dir, "parent"); !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "holder child") {
		t.Fatalf("LockDir while the child holds it: %v", err)
	}
	cmd.Process.Kill()
	cmd.Wait()
	l, err := LockDir(dir, "parent")
	if err != nil {
		t.Fatalf("LockDir after the holder was killed: %v", err)
	}
	l.Unlock()
}

// TestKilledMidWrite kills a process in the middle of WriteFile (after part of the new
// content is written): the destination keeps its old content whole, the partial
// temporary file is recognized as stale and RemoveStale removes it.
func TestKilledMidWrite(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("SIGKILL")
	}
	if p := os.Getenv("FSAFE_WRITE"); p != "" {
		WriteFile(p, func(w io.Writer) error {
			w.Write([]byte(strings.Repeat("new ", 1000)))
			os.Stdout.Write([]byte("writing\n"))
			time.Sleep(time.Minute)
			return nil
		})
		os.Exit(0)
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "checkpoint.safetensors")
	if err := WriteBytes(p, []byte("old content")); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestKilledMidWrite$")
	cmd.Env = append(os.Environ(), "FSAFE_WRITE="+p)
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 8)
	if _, err := io.ReadFull(out, buf); err != nil || string(buf) != "writing\n" {
		t.Fatalf("child did not start writing: %q %v", buf, err)
	}
	cmd.Process.Kill()
	cmd.Wait()
	if b, _ := os.ReadFile(p); string(b) != "old content" {
		t.Fatalf("destination after a kill mid-write: %q, want the old content", b)
	}
	removed, err := RemoveStale(dir)
	if err != nil || len(removed) != 1 || !strings.HasPrefix(removed[0], ".checkpoint.safetensors.tmp-") {
		t.Fatalf("RemoveStale = %v, %v; want the one partial temporary file", removed, err)
	}
}
