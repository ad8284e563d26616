package train

import (
	"fmt"
	"io"
	"math"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
)

// NewProgress returns the callback that reports training on w: a progress bar during each
// epoch (drawn only when w is a terminal, so logs get the lines alone) and one line per
// epoch,
//
//	epoch 3/10: train loss 0.2143 acc 93.75% | val loss 0.2520 acc 92.80% | lr 0.05 | 1.20s, 50000 samples/s
//
// with the validation metrics when there is a validation set, the test metrics (labelled
// "test") only when they were evaluated (Config.TestEachEpoch), and the loss on the whole
// training set with Config.EvalTrain. Install it after callbacks that change the record.
func NewProgress(w io.Writer) Callback { return &progressCallback{w: w} }

type progressCallback struct {
	BaseCallback
	w       io.Writer
	bar     *progress
	epoch   int // epoch the bar and sums belong to
	lossSum float64
	correct int
	n       int
	steps   int
	start   time.Time
}

func (p *progressCallback) BeforeStep(s *StepInfo) error {
	if p.bar == nil || p.epoch != s.Epoch {
		p.bar.finish()
		t := s.Trainer
		p.bar = newProgress(p.w, t.StepsPerEpoch(), fmt.Sprintf("epoch %d/%d", s.Epoch, t.Config.Epochs))
		p.epoch, p.lossSum, p.correct, p.n, p.steps, p.start = s.Epoch, 0, 0, 0, 0, time.Now()
	}
	return nil
}

func (p *progressCallback) AfterStep(s *StepInfo) error {
	if p.bar == nil {
		return nil
	}
	n := len(s.Y)
	p.lossSum += s.Loss * float64(n)
	p.correct += s.Correct
	p.n += n
	p.steps++
	p.bar.update(p.steps, p.lossSum/float64(p.n), float64(p.correct)/float64(p.n), float64(p.n)/time.Since(p.start).Seconds())
	return nil
}

func (p *progressCallback) AfterEpoch(t *Trainer, rec *EpochRecord) error {
	p.bar.finish()
	p.bar = nil
	if p.w == nil {
		return nil
	}
	_, err := io.WriteString(p.w, epochLine(t.Config.Epochs, rec))
	return err
}

// epochLine formats rec as NewProgress prints it (with a newline), for epochs total
// epochs: validation metrics when present, test metrics when evaluated (not NaN), the
// full-training-set loss when evaluated (not 0).
func epochLine(epochs int, rec *EpochRecord) string {
	val, test, extra := "", "", ""
	if !math.IsNaN(rec.ValLoss) {
		val = fmt.Sprintf(" | val loss %.4f acc %.2f%%", rec.ValLoss, 100*rec.ValAccuracy)
	}
	if !math.IsNaN(rec.TestLoss) {
		test = fmt.Sprintf(" | test loss %.4f acc %.2f%%", rec.TestLoss, 100*rec.TestAccuracy)
	}
	if rec.TrainEvalLoss != 0 {
		extra = fmt.Sprintf(" | full train loss %.5f", rec.TrainEvalLoss)
	}
	return fmt.Sprintf("epoch %d/%d: train loss %.4f acc %.2f%%%s%s | lr %.4g | %.2fs, %.0f samples/s%s\n",
		rec.Epoch, epochs, rec.TrainLoss, 100*rec.TrainAccuracy, val, test,
		rec.LR, rec.TrainSeconds, rec.SamplesPerSecond, extra)
}

// progress wraps a progress bar; the zero value and nil (nil writer, not a terminal) do
// nothing.
type progress struct {
	bar  *progressbar.ProgressBar
	last time.Time
}

func newProgress(w io.Writer, total int, desc string) *progress {
	if w == nil || !isTerminal(w) {
		return &progress{}
	}
	bar := progressbar.NewOptions(total,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(desc),
		progressbar.OptionSetWidth(24),
		progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionShowCount(),
	)
	return &progress{bar: bar}
}

func (p *progress) update(step int, loss, acc, samplesPerSec float64) {
	if p == nil || p.bar == nil {
		return
	}
	if now := time.Now(); now.Sub(p.last) > 200*time.Millisecond {
		p.last = now
		p.bar.Describe(fmt.Sprintf("loss %.4f acc %.2f%% %.0f samples/s", loss, 100*acc, samplesPerSec))
	}
	_ = p.bar.Set(step)
}

func (p *progress) finish() {
	if p != nil && p.bar != nil {
		_ = p.bar.Finish()
	}
}

// isTerminal reports whether w is a terminal; the bar is drawn only there (logs get the
// per-epoch lines alone).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
