package page

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// chromium returns the path of a Chromium (Debian's chromium package) or "".
func chromium() string {
	for _, n := range []string{"chromium", "chromium-browser", "google-chrome", "chrome"} {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	return ""
}

// tab is a headless Chromium tab that records every request the page makes and every
// uncaught exception (over the DevTools protocol).
type tab struct {
	ctx      context.Context
	mu       sync.Mutex
	requests []string
	errs     []string
}

func openTab(t *testing.T) *tab {
	t.Helper()
	exe := chromium()
	if exe == "" && os.Getenv("TEMPER_REQUIRE_CHROMIUM") != "" {
		t.Fatal("chromium not found on PATH and TEMPER_REQUIRE_CHROMIUM is set (CI must run the browser test)")
	}
	if exe == "" {
		t.Skip("chromium not found on PATH (Debian: apt-get install chromium; .ci/run installs it): browser test skipped")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.UserDataDir(t.TempDir()),
		chromedp.NoSandbox, chromedp.DisableGPU, chromedp.WindowSize(1400, 1000))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	ctx, cancel = context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(cancel)
	tb := &tab{ctx: ctx}
	err := chromedp.Listen(ctx, func(ev any) {
		tb.mu.Lock()
		defer tb.mu.Unlock()
		switch e := ev.(type) {
		case *network.EventRequestWillBeSent:
			tb.requests = append(tb.requests, e.Request.URL)
		case *runtime.EventExceptionThrown:
			tb.errs = append(tb.errs, e.ExceptionDetails.Text)
		}
	})
	if err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, runtime.Enable, struct{}{}); err != nil {
		t.Fatal(err)
	}
	return tb
}

// check fails on a request outside file or an exception.
func (tb *tab) check(t *testing.T, file string) {
	t.Helper()
	tb.mu.Lock()
	defer tb.mu.Unlock()
	if len(tb.requests) == 0 {
		t.Error("no request recorded at all (the network domain is not reporting)")
	}
	for _, u := range tb.requests {
		if u != "file://"+file && !strings.HasPrefix(u, "data:") {
			t.Errorf("the page requested %q (want no request outside the file)", u)
		}
	}
	if len(tb.errs) > 0 {
		t.Errorf("uncaught JavaScript exceptions: %v", tb.errs)
	}
}

// inked counts the clearly coloured pixels of a PNG (lines and bands, not the white
// background, the grey grid or black text).
func inked(t *testing.T, b []byte) (n, total int) {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	r := img.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			cr, cg, cb, _ := img.At(x, y).RGBA()
			if max(cr, cg, cb)-min(cr, cg, cb) > 0x3000 {
				n++
			}
		}
	}
	return n, r.Dx() * r.Dy()
}

func writeFixture(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "report.html")
	if err := fixture().Write(p); err != nil {
		t.Fatal(err)
	}
	return p
}

// pageState is what the page's script reports: the ready marker, the errors it caught
// (window.onerror, unhandled rejections, CSP violations) and a smoothed path.
type pageState struct {
	Ready  string `json:"ready"`
	Errors string `json:"errors"`
	Text   string `json:"text"`
	D      string `json:"d"`
}

const stateJS = `({ready: document.documentElement.getAttribute("data-ready") || "",
  errors: document.documentElement.getAttribute("data-errors") || "",
  text: document.getElementById("errors").textContent,
  d: document.querySelector("#chart1 path.sm").getAttribute("d")})`

func TestBrowserPage(t *testing.T) {
	file := writeFixture(t)
	tb := openTab(t)
	if err := chromedp.Do(tb.ctx, chromedp.Navigate("file://"+file)); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(tb.ctx, chromedp.Poll[bool](`document.documentElement.hasAttribute("data-ready") || document.documentElement.hasAttribute("data-errors")`,
		chromedp.WithPollingTimeout(30*time.Second))); err != nil {
		t.Fatalf("the page never became ready: %v", err)
	}
	before, err := chromedp.Run(tb.ctx, chromedp.Evaluate[pageState](stateJS))
	if err != nil {
		t.Fatal(err)
	}
	// move the smoothing control: the smoothed path must change and nothing may fail
	if _, err := chromedp.Run(tb.ctx, chromedp.Evaluate[bool](`(function(){var i=document.getElementById("smooth"); i.value="0.6"; i.dispatchEvent(new Event("input")); return true})()`)); err != nil {
		t.Fatal(err)
	}
	after, err := chromedp.Run(tb.ctx, chromedp.Evaluate[pageState](stateJS))
	if err != nil {
		t.Fatal(err)
	}
	shot, err := chromedp.Run(tb.ctx, chromedp.Screenshot(chromedp.CSS("#chart1")))
	if err != nil {
		t.Fatal(err)
	}
	tb.check(t, file)
	for _, s := range []pageState{before, after} {
		if s.Ready != "1" || s.Errors != "" || s.Text != "" {
			t.Errorf("page state %+v: want ready 1 and no caught error", s)
		}
	}
	if before.D == "" || before.D == after.D {
		t.Errorf("smoothing did not redraw the smoothed path (before %.40q, after %.40q)", before.D, after.D)
	}
	if n, total := inked(t, shot); n < total/200 {
		t.Errorf("the chart's screenshot is blank: %d of %d pixels coloured", n, total)
	}
}

func TestBrowserPageWithoutJavaScript(t *testing.T) {
	file := writeFixture(t)
	tb := openTab(t)
	if _, err := chromedp.Call(tb.ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(tb.ctx, chromedp.Navigate("file://"+file), chromedp.WaitReady(chromedp.CSS("#chart1"))); err != nil {
		t.Fatal(err)
	}
	shot, err := chromedp.Run(tb.ctx, chromedp.Screenshot(chromedp.CSS("#chart1")))
	if err != nil {
		t.Fatal(err)
	}
	tb.check(t, file)
	if n, total := inked(t, shot); n < total/200 {
		t.Errorf("the static chart is blank: %d of %d pixels coloured", n, total)
	}
}

// TestBrowserCatchesViolations checks the checks: a page that tries to load an external
// image gets the attempt reported by its script (the CSP blocks it), so the tests above
// would see it.
func TestBrowserCatchesViolations(t *testing.T) {
	var b bytes.Buffer
	if err := fixture().Render(&b); err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(b.String(), "<h1>", `<img src="https://example.invalid/x.png" alt=""><h1>`, 1)
	file := filepath.Join(t.TempDir(), "bad.html")
	if err := os.WriteFile(file, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	tb := openTab(t)
	if err := chromedp.Do(tb.ctx, chromedp.Navigate("file://"+file)); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(tb.ctx, chromedp.Poll[bool](`document.documentElement.hasAttribute("data-errors")`, chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		t.Fatalf("the blocked external image was not reported by the page: %v", err)
	}
	tb.mu.Lock()
	defer tb.mu.Unlock()
	for _, u := range tb.requests {
		if strings.Contains(u, "example.invalid") {
			return // recorded as a request too: either way the tests above fail on it
		}
	}
}
