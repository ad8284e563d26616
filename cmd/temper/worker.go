package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/temperml/temper/exitcode"
	"github.com/temperml/temper/scaleout"
	"github.com/temperml/temper/scaleout/store"
)

func init() { commands = append(commands, newWorkerCmd) }

func newWorkerCmd() *cobra.Command {
	var planPath, storeURL, planSHA, attempt, workDir string
	var index int
	var quiet bool
	var metrics *string
	cmd := &cobra.Command{
		Use:   "worker",
		Short: "Run one item of a plan and record it in the store (one pod of an Indexed Job)",
		Long: `Run item I of a plan ('temper plan') and record its outputs in the store:
items/I/attempt-ID/ (the run's files; its checkpoint after every epoch) and then, atomically,
items/I/DONE.json (the attempt, the SHA-256 of its files, its metrics). The index is
--index, else JOB_COMPLETION_INDEX (Kubernetes Indexed Jobs), else VC_TASK_INDEX (Volcano).

If DONE.json exists the worker exits 0 at once. Two workers may run the same index at once:
each writes its own attempt folder and the first to finish writes DONE.json. A worker that
was killed leaves its last checkpoint; the next run of the index resumes from the most
advanced one (search trials start over: they are short).

The plan is --plan FILE, else plan.json in the store ('temper plan --store'); --plan-sha256
refuses any other plan. ID is --attempt, else $TEMPER_ATTEMPT (the pod's name in the Job of
'temper k8s job'), else the host name and random digits. Exit codes: 0 done, 1 failure
(retry), 2 usage or a plan/store mismatch, 3 a diverged run (retrying cannot help),
130/143 interrupted/terminated (the checkpoint of the last epoch is in the store).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if storeURL == "" {
				return usagef("--store is required (file:///DIR, DIR or s3://BUCKET/PREFIX?endpoint=...)")
			}
			if !cmd.Flags().Changed("index") {
				i, _, err := scaleout.IndexFromEnv(os.Getenv)
				if err != nil {
					return usageError{err}
				}
				index = i
			}
			if attempt == "" {
				attempt = os.Getenv("TEMPER_ATTEMPT")
			}
			cbs, err := epochCallbacks(*metrics, quiet, cmd.ErrOrStderr(), cmd.OutOrStdout())
			if err != nil {
				return err
			}
			ctx, sig, stop := notifySignals(cmd.Context())
			defer stop()
			st, err := store.Open(ctx, storeURL)
			if err != nil {
				return usageError{err}
			}
			defer st.Close()
			p, err := scaleout.LoadPlan(ctx, st, planPath, planSHA)
			if err != nil {
				return planErr(err)
			}
			log := cmd.ErrOrStderr()
			if *metrics == metricsKatib {
				log = cmd.OutOrStdout()
			}
			_, err = p.Work(ctx, st, scaleout.WorkOptions{Index: index, Attempt: attempt, WorkDir: workDir, Log: log, Callbacks: cbs})
			if s := sig(); err != nil && s != nil {
				code, name := exitcode.Interrupted, "SIGINT"
				if s == syscall.SIGTERM {
					code, name = exitcode.Terminated, "SIGTERM"
				}
				return exitError{code, fmt.Errorf("stopped by %s: %w (the last epoch's checkpoint is in the store; the next run of item %d resumes from it)", name, err, index)}
			}
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&planPath, "plan", "", "plan file (default: plan.json in the store)")
	f.StringVar(&storeURL, "store", "", "store URL: file:///DIR, DIR, or s3://BUCKET/PREFIX?endpoint=URL&region=R")
	f.IntVar(&index, "index", 0, "item index (default: $JOB_COMPLETION_INDEX, else $VC_TASK_INDEX)")
	f.StringVar(&planSHA, "plan-sha256", "", "refuse a plan whose sha256 differs")
	f.StringVar(&attempt, "attempt", "", "attempt ID, lower-case letters, digits and '-' (default: $TEMPER_ATTEMPT, else host name and random digits)")
	f.StringVar(&workDir, "work-dir", "", "local scratch folder (default: a temporary folder, removed at the end)")
	f.BoolVarP(&quiet, "quiet", "q", false, "no per-epoch lines (text format)")
	metrics = addMetricsFormat(f)
	return cmd
}

// planErr makes a plan that does not parse or validate a usage error (exit 2: retrying
// cannot help); failing to read it (a store that cannot be reached) stays a failure.
func planErr(err error) error {
	localFileMissing := errors.Is(err, fs.ErrNotExist) && !errors.Is(err, store.ErrNotExist)
	if errors.Is(err, scaleout.ErrInvalidPlan) || localFileMissing {
		return usageError{err}
	}
	return err
}
