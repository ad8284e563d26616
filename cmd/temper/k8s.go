package main

import (
	"fmt"
	"io"
	"slices"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/temperml/temper/checkpoint"
	"github.com/temperml/temper/recipe"
	"github.com/temperml/temper/scaleout"
	"github.com/temperml/temper/scaleout/k8s"
	"github.com/temperml/temper/scaleout/katib"
	"github.com/temperml/temper/scaleout/store"
)

func init() { commands = append(commands, newK8sCmd) }

func newK8sCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "k8s",
		Short: "Write Kubernetes manifests: an Indexed Job for a plan, a Katib Experiment",
		Long: `Write Kubernetes manifests as YAML (to --out, or stdout):

  temper k8s job --plan plan.json --image IMAGE --store URL   a batch/v1 Indexed Job, one pod per item
  temper k8s katib --image IMAGE [run flags]                  a Katib Experiment running 'temper train'

See docs/scale-out.md for the whole flow on a cluster.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newK8sJobCmd(), newK8sKatibCmd())
	return cmd
}

// memoryFlag is --memory: a Kubernetes quantity, or "auto" to measure the recipe.
func memoryFor(flag string, rs []recipe.Recipe) (uint64, string, error) {
	if flag != "auto" {
		q, err := resource.ParseQuantity(flag)
		if err != nil || q.Sign() <= 0 {
			return 0, "", usagef("--memory %q: want a positive quantity such as 2Gi, or auto", flag)
		}
		return uint64(q.Value()), "given by --memory", nil
	}
	var best scaleout.MemoryEstimate
	seen := map[string]bool{}
	for _, r := range rs {
		if seen[r.Model.Name] {
			continue
		}
		seen[r.Model.Name] = true
		m, err := scaleout.EstimateMemory(r)
		if err != nil {
			return 0, "", fmt.Errorf("measuring the memory of %s (or give --memory): %w", r.Model.Name, err)
		}
		if m.Bytes > best.Bytes {
			best = m
		}
	}
	return best.Bytes, "measured by temper k8s: " + best.String(), nil
}

// writeYAML writes b to path atomically, or to w when path is "".
func writeYAML(path string, w io.Writer, b []byte) error {
	if path == "" {
		_, err := w.Write(b)
		return err
	}
	return checkpoint.WriteFileAtomic(path, func(f io.Writer) error {
		_, err := f.Write(b)
		return err
	})
}

func newK8sJobCmd() *cobra.Command {
	var o k8s.JobOptions
	var planPath, out, memory, metrics string
	var noPut bool
	cmd := &cobra.Command{
		Use:   "job",
		Short: "Write the Indexed Job that runs a plan's items",
		Long: `Write a batch/v1 Job (completionMode Indexed, completions = the plan's items, restartPolicy
Never, --backoff-limit-per-index retries per item, a podFailurePolicy that fails an item at
once on exit code 2 (usage) or 3 (diverged run) and ignores disruptions) whose pods run
'temper worker --store URL --plan-sha256 SHA'. The plan is put into the store as
plans/SHA.json (unless --no-put-plan), where the workers read it.

Requests: the items' --threads CPUs, and memory measured here on the item's real data and
model (--memory auto: 2 x (data + one training batch) + 64 MiB; see docs/scale-out.md) or
given (--memory 2Gi); the memory limit is 1.5 x the request and GOMEMLIMIT 90% of it. An
s3:// store takes its credentials from the Secret --secret (as environment variables); a
file:// store must be a ReadWriteMany volume, --pvc, mounted at the store's folder.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if planPath == "" || o.Image == "" || o.Store == "" {
				return usagef("--plan, --image and --store are required")
			}
			p, err := scaleout.ReadPlan(planPath)
			if err != nil {
				return usageError{err}
			}
			if _, err := epochCallbacks(metrics, false, io.Discard, io.Discard); err != nil {
				return err
			}
			if metrics != metricsText {
				o.Args = append(o.Args, "--metrics-format", metrics)
			}
			var rs []recipe.Recipe
			for _, it := range p.Items {
				rs = append(rs, it.Recipe)
			}
			o.CPUs = slices.MaxFunc(rs, func(a, b recipe.Recipe) int { return a.Threads - b.Threads }).Threads
			if o.Memory, o.MemoryNote, err = memoryFor(memory, rs); err != nil {
				return err
			}
			job, err := k8s.JobFor(p, o)
			if err != nil {
				return usageError{err}
			}
			b, err := k8s.Marshal(job)
			if err != nil {
				return err
			}
			if !noPut {
				st, err := store.Open(cmd.Context(), o.Store)
				if err != nil {
					return usageError{err}
				}
				defer st.Close()
				if err := p.PutPlan(cmd.Context(), st); err != nil {
					return err
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "put the plan into %s as %s\n", o.Store, scaleout.PlanKeyFor(p.SHA256))
			}
			return writeYAML(out, cmd.OutOrStdout(), b)
		},
	}
	f := cmd.Flags()
	f.StringVar(&planPath, "plan", "", "plan file ('temper plan')")
	f.StringVar(&o.Image, "image", "", "container image with temper on its PATH (and the data)")
	f.StringVar(&o.Store, "store", "", "store URL the pods write to (s3://BUCKET/PREFIX?endpoint=..., or file:///DIR with --pvc)")
	f.IntVar(&o.Parallelism, "parallelism", 0, "pods at once (0 = every item at once)")
	f.IntVar(&o.BackoffLimitPerIndex, "backoff-limit-per-index", 2, "retries of one item (a pod failure other than exit 2 or 3, or a disruption)")
	f.StringVar(&o.Name, "name", "", "Job name (default temper-KIND-PLANHASH8)")
	f.StringVar(&o.Namespace, "namespace", "", "namespace (default: kubectl's)")
	f.StringVar(&o.PVC, "pvc", "", "ReadWriteMany PersistentVolumeClaim holding a file:// store")
	f.StringVar(&o.SecretEnv, "secret", "", "Secret with the s3 store's credentials as environment variables (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)")
	f.IntVar(&o.TTLSecondsAfterFinished, "ttl", 0, "delete the finished Job after this many seconds (0: keep)")
	f.StringVar(&memory, "memory", "auto", "memory request per pod: a quantity (2Gi), or auto to measure it here")
	f.StringVar(&metrics, "metrics-format", metricsText, "the workers' per-epoch report: text or katib")
	f.BoolVar(&noPut, "no-put-plan", false, "do not put the plan into the store (it is there already)")
	f.StringVar(&out, "out", "", "write the YAML here (default stdout)")
	return cmd
}

func newK8sKatibCmd() *cobra.Command {
	var o katib.ExperimentOptions
	var lrRange, wdRange, out, memory string
	var rf *runFlags
	cmd := &cobra.Command{
		Use:   "katib",
		Short: "Write a Katib Experiment whose trials run 'temper train'",
		Long: `Write a Katib (kubeflow.org/v1beta1) Experiment that searches the learning rate and the
weight decay (log-uniform in --lr-range and --wd-range) with Katib's --algorithm (random,
tpe, bayesianoptimization, ...), maximizing the validation accuracy that every trial prints
with --metrics-format katib and Katib's StdOut collector reads. Each trial runs
'temper train' with the run flags given here (they must hold out a validation split:
--val-fraction or --val-size) and Katib's lr and weight decay.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.Image == "" {
				return usagef("--image is required")
			}
			if err := rf.refuse("Katib sets it in every trial", "lr", "weight-decay"); err != nil {
				return err
			}
			r, err := rf.resolve()
			if err != nil {
				return err
			}
			if !r.Data.HasVal() {
				return usagef("the objective is the validation accuracy: add --val-fraction F or --val-size N")
			}
			lr, err := parseRange("lr-range", lrRange)
			if err != nil {
				return err
			}
			wd, err := parseRange("wd-range", wdRange)
			if err != nil {
				return err
			}
			o.LR, o.WD, o.CPUs = lr, wd, r.Threads
			o.TrainArgs = nil
			rf.fs.Visit(func(fl *pflag.Flag) {
				if _, ok := rf.paths[fl.Name]; ok {
					o.TrainArgs = append(o.TrainArgs, "--"+fl.Name+"="+fl.Value.String())
				}
			})
			if o.Memory, _, err = memoryFor(memory, []recipe.Recipe{r}); err != nil {
				return err
			}
			e, err := katib.NewExperiment(o)
			if err != nil {
				return usageError{err}
			}
			b, err := k8s.Marshal(e)
			if err != nil {
				return err
			}
			return writeYAML(out, cmd.OutOrStdout(), b)
		},
	}
	rf = addRunFlags(cmd.Flags(), runFlagsAll)
	f := cmd.Flags()
	f.StringVar(&o.Image, "image", "", "container image with temper and /bin/sh (Katib's StdOut collector wraps the command in a shell)")
	f.StringVar(&o.Name, "name", "temper-search", "Experiment name")
	f.StringVar(&o.Namespace, "namespace", "", "namespace (default: kubectl's)")
	f.StringVar(&lrRange, "lr-range", "1e-4,1", "learning-rate range LO,HI (log-uniform)")
	f.StringVar(&wdRange, "wd-range", "1e-6,1e-2", "weight-decay range LO,HI (log-uniform)")
	f.StringVar(&o.Algorithm, "algorithm", "random", "Katib suggestion algorithm: random, tpe, bayesianoptimization, ...")
	f.IntVar(&o.MaxTrials, "max-trials", 12, "trials in all")
	f.IntVar(&o.Parallel, "parallel", 3, "trials at once")
	f.IntVar(&o.MaxFailed, "max-failed", 3, "failed trials before the experiment fails")
	f.Float64Var(&o.Goal, "goal", 0, "stop once a trial's validation accuracy reaches this (0: none)")
	f.StringVar(&memory, "memory", "auto", "memory request per trial: a quantity (2Gi), or auto to measure it here")
	f.StringVar(&out, "out", "", "write the YAML here (default stdout)")
	return cmd
}
