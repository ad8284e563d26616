package katib

import (
	"fmt"
	"strconv"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/temperml/temper/lrfind"
)

// The Experiment types below are the fields of Katib's kubeflow.org/v1beta1 Experiment
// (github.com/kubeflow/katib, pkg/apis/controller/experiments/v1beta1) that temper
// writes, as small structs with the same JSON names. Importing Katib's module would
// bring its controller's dependencies (controller-runtime, the Kubeflow training
// operators' types) into temper's module graph for a dozen fields.

// Experiment is a Katib Experiment.
type Experiment struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              ExperimentSpec `json:"spec"`
}

// ExperimentSpec is an Experiment's spec.
type ExperimentSpec struct {
	Objective            Objective            `json:"objective"`
	Algorithm            Algorithm            `json:"algorithm"`
	ParallelTrialCount   int                  `json:"parallelTrialCount"`
	MaxTrialCount        int                  `json:"maxTrialCount"`
	MaxFailedTrialCount  int                  `json:"maxFailedTrialCount"`
	MetricsCollectorSpec MetricsCollectorSpec `json:"metricsCollectorSpec"`
	Parameters           []Parameter          `json:"parameters"`
	TrialTemplate        TrialTemplate        `json:"trialTemplate"`
}

// Objective is what Katib optimizes.
type Objective struct {
	Type                  string   `json:"type"` // maximize or minimize
	Goal                  *float64 `json:"goal,omitempty"`
	ObjectiveMetricName   string   `json:"objectiveMetricName"`
	AdditionalMetricNames []string `json:"additionalMetricNames,omitempty"`
}

// Algorithm is the suggestion algorithm (random, tpe, bayesianoptimization, ...).
type Algorithm struct {
	AlgorithmName string `json:"algorithmName"`
}

// MetricsCollectorSpec says how Katib reads a trial's metrics.
type MetricsCollectorSpec struct {
	Collector Collector `json:"collector"`
}

// Collector is the metrics collector kind (StdOut).
type Collector struct {
	Kind string `json:"kind"`
}

// Parameter is one searched hyperparameter.
type Parameter struct {
	Name          string        `json:"name"`
	ParameterType string        `json:"parameterType"` // double
	FeasibleSpace FeasibleSpace `json:"feasibleSpace"`
}

// FeasibleSpace is a parameter's range; Katib takes the bounds as strings.
type FeasibleSpace struct {
	Min          string `json:"min"`
	Max          string `json:"max"`
	Distribution string `json:"distribution,omitempty"` // uniform, logUniform, normal, logNormal
}

// TrialTemplate is how a trial runs: a batch/v1 Job whose command refers to the trial
// parameters as ${trialParameters.NAME}.
type TrialTemplate struct {
	PrimaryContainerName string           `json:"primaryContainerName"`
	TrialParameters      []TrialParameter `json:"trialParameters"`
	TrialSpec            batchv1.Job      `json:"trialSpec"`
}

// TrialParameter maps a template placeholder to a searched parameter.
type TrialParameter struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Reference   string `json:"reference"`
}

// ExperimentOptions describe an Experiment searching temper's learning rate and weight
// decay.
type ExperimentOptions struct {
	Name, Namespace, Image string
	// LR and WD are the log-uniform ranges of the learning rate and weight decay.
	LR, WD lrfind.Range
	// Algorithm is Katib's suggestion algorithm (default random).
	Algorithm string
	// MaxTrials, Parallel and MaxFailed trial counts (defaults 12, 3, 3).
	MaxTrials, Parallel, MaxFailed int
	// Goal stops the experiment once a trial's validation accuracy reaches it (0: none).
	Goal float64
	// TrainArgs are the `temper train` run flags of every trial (not --lr and
	// --weight-decay, which Katib sets; the recipe must hold out a validation split).
	TrainArgs []string
	// CPUs and Memory (bytes) requested per trial.
	CPUs   int
	Memory uint64
}

// Parameter and placeholder names of the Experiment.
const (
	ParamLR = "lr"
	ParamWD = "weight_decay"
)

// NewExperiment returns the Experiment: objective val_accuracy (maximize, val_loss also
// recorded), the StdOut collector, log-uniform lr and weight_decay, and trials that run
// `temper train TrainArgs --lr=... --weight-decay=... --metrics-format katib`.
//
// Katib's StdOut collector runs the trial's command through a shell that copies its
// output to a file the collector reads, so the image needs /bin/sh besides temper.
func NewExperiment(o ExperimentOptions) (*Experiment, error) {
	if o.Image == "" {
		return nil, fmt.Errorf("katib: no image")
	}
	for _, m := range validation.IsDNS1123Subdomain(o.Name) {
		return nil, fmt.Errorf("katib: experiment name %q: %s", o.Name, m)
	}
	for _, rg := range []lrfind.Range{o.LR, o.WD} {
		if !(rg.Lo > 0 && rg.Hi > rg.Lo) {
			return nil, fmt.Errorf("katib: range %v: want 0 < lo < hi for a log-uniform parameter", rg)
		}
	}
	for _, a := range o.TrainArgs {
		for _, f := range []string{"--lr", "--weight-decay", "--metrics-format", "--out"} {
			if a == f || len(a) > len(f) && a[:len(f)+1] == f+"=" {
				return nil, fmt.Errorf("katib: the trials' train flags set %s themselves", f)
			}
		}
	}
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&o.MaxTrials, 12)
	def(&o.Parallel, 3)
	def(&o.MaxFailed, 3)
	def(&o.CPUs, 1)
	if o.Algorithm == "" {
		o.Algorithm = "random"
	}
	num := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	args := append([]string{"train"}, o.TrainArgs...)
	args = append(args, "--lr=${trialParameters.learningRate}", "--weight-decay=${trialParameters.weightDecay}",
		"--metrics-format=katib", "--out=/tmp/temper-trial")
	c := corev1.Container{Name: "training-container", Image: o.Image, Command: []string{"temper"}, Args: args,
		Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
			corev1.ResourceCPU: *resource.NewQuantity(int64(o.CPUs), resource.DecimalSI)}}}
	if o.Memory > 0 {
		c.Resources.Requests[corev1.ResourceMemory] = *resource.NewQuantity(int64(o.Memory), resource.BinarySI)
	}
	e := &Experiment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "kubeflow.org/v1beta1", Kind: "Experiment"},
		ObjectMeta: metav1.ObjectMeta{Name: o.Name, Namespace: o.Namespace},
		Spec: ExperimentSpec{
			Objective:            Objective{Type: "maximize", ObjectiveMetricName: ValAccuracy, AdditionalMetricNames: []string{ValLoss}},
			Algorithm:            Algorithm{AlgorithmName: o.Algorithm},
			ParallelTrialCount:   o.Parallel,
			MaxTrialCount:        o.MaxTrials,
			MaxFailedTrialCount:  o.MaxFailed,
			MetricsCollectorSpec: MetricsCollectorSpec{Collector: Collector{Kind: "StdOut"}},
			Parameters: []Parameter{
				{Name: ParamLR, ParameterType: "double", FeasibleSpace: FeasibleSpace{Min: num(o.LR.Lo), Max: num(o.LR.Hi), Distribution: "logUniform"}},
				{Name: ParamWD, ParameterType: "double", FeasibleSpace: FeasibleSpace{Min: num(o.WD.Lo), Max: num(o.WD.Hi), Distribution: "logUniform"}},
			},
			TrialTemplate: TrialTemplate{
				PrimaryContainerName: c.Name,
				TrialParameters: []TrialParameter{
					{Name: "learningRate", Description: "learning rate (the one-cycle peak by default)", Reference: ParamLR},
					{Name: "weightDecay", Description: "weight decay", Reference: ParamWD},
				},
				TrialSpec: batchv1.Job{TypeMeta: metav1.TypeMeta{APIVersion: "batch/v1", Kind: "Job"},
					Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
						RestartPolicy: corev1.RestartPolicyNever, Containers: []corev1.Container{c}}}}},
			},
		},
	}
	if o.Goal > 0 {
		e.Spec.Objective.Goal = &o.Goal
	}
	return e, nil
}
