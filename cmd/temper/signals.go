package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"github.com/temperml/temper/recipe"
	"github.com/temperml/temper/train"
)

// exitError carries a specific exit code (130 after SIGINT, 143 after SIGTERM).
type exitError struct {
	code int
	err  error
}

func (e exitError) Error() string { return e.err.Error() }
func (e exitError) Unwrap() error { return e.err }

// notifySignals returns a context cancelled by the first SIGINT or SIGTERM, a func
// returning that signal (nil if none came), and a stop func. After the first signal the
// handler is removed, so a second one ends the process at once.
func notifySignals(parent context.Context) (context.Context, func() os.Signal, func()) {
	ctx, cancel := context.WithCancel(parent)
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	var mu sync.Mutex
	var got os.Signal
	done := make(chan struct{})
	go func() {
		select {
		case s := <-ch:
			signal.Stop(ch)
			mu.Lock()
			got = s
			mu.Unlock()
			cancel()
		case <-done:
		}
	}()
	sig := func() os.Signal {
		mu.Lock()
		defer mu.Unlock()
		return got
	}
	var once sync.Once
	return ctx, sig, func() {
		once.Do(func() {
			signal.Stop(ch)
			close(done)
			cancel()
		})
	}
}

// interrupted is the one line printed when a signal stopped a run: what was kept and
// the exact command that continues it; the exit code is 128 + the signal number.
func interrupted(s os.Signal, err error, out string) error {
	code := 130
	name := "SIGINT"
	if s == syscall.SIGTERM {
		code, name = 143, "SIGTERM"
	}
	var ie *train.InterruptedError
	if !errors.As(err, &ie) {
		// Stopped outside the epochs (evaluation or writing the results).
		return exitError{code, fmt.Errorf("stopped by %s: %v; the checkpoint in %s is kept (resume: temper train --resume %s)", name, err, out, shellQuote(out))}
	}
	if ie.Epoch == 0 {
		return exitError{code, fmt.Errorf("stopped by %s in epoch 1 after %d steps: no epoch was completed, so nothing was kept; run the same command again to start over", name, ie.Step)}
	}
	return exitError{code, fmt.Errorf("stopped by %s in epoch %d after %d steps; kept %s of epoch %d; resume with: temper train --resume %s",
		name, ie.Epoch+1, ie.Step, filepath.Join(out, train.StateFile), ie.Epoch, shellQuote(out))}
}

// shellQuote quotes p for a POSIX shell if it needs it.
func shellQuote(p string) string {
	for _, c := range p {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '/' || c == '.' || c == '_' || c == '-' || c == '+' || c == ':' || c == '=') {
			return "'" + strings.ReplaceAll(p, "'", `'\''`) + "'"
		}
	}
	return p
}

// outMode is the output-folder mode of --overwrite.
func outMode(overwrite bool) recipe.OutMode {
	if overwrite {
		return recipe.OutOverwrite
	}
	return recipe.OutNew
}
