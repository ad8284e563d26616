// Package k8s writes the Kubernetes manifests that run a scaleout plan: a batch/v1
// Indexed Job, one pod per item (each pod gets its item from JOB_COMPLETION_INDEX),
// built from the Kubernetes API types (k8s.io/api) and written as YAML
// (sigs.k8s.io/yaml). Validate makes the checks the API server makes of the fields such
// a Job uses, so a manifest that passes them is not refused for them at `kubectl apply`.
//
// The Job (JobFor):
//
//   - completionMode: Indexed, completions = the plan's items, parallelism as given;
//   - restartPolicy: Never with backoffLimitPerIndex (retries count per index, so one
//     bad item cannot use up the whole Job's retries);
//   - a podFailurePolicy whose first rule ignores pods that failed because of a
//     disruption (condition DisruptionTarget: preemption, eviction, node drain; they do
//     not count as retries), and whose second fails the index at once on the exit codes a
//     retry cannot change: exitcode.Usage (2) and exitcode.Diverged (3);
//   - the worker reads the plan from the store (plan.json) and refuses any other plan
//     than the one the Job was made for (--plan-sha256);
//   - requests of --threads CPUs and the measured memory (scaleout.EstimateMemory), a
//     memory limit of 1.5 × the request, and GOMEMLIMIT at 90% of the limit so that
//     Go's collector works harder before the kernel would kill the pod.
package k8s

import (
	"fmt"
	"strconv"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/temperml/temper/exitcode"
	"github.com/temperml/temper/scaleout"
	"github.com/temperml/temper/scaleout/store"
)

// ContainerName is the worker container's name (podFailurePolicy rules refer to it).
const ContainerName = "worker"

// JobOptions describe the Job around a plan.
type JobOptions struct {
	// Name of the Job (a DNS label short enough for "NAME-INDEX" pod host names); ""
	// makes "temper-KIND-" + the plan hash's first 8 digits.
	Name      string
	Namespace string
	// Image holds the temper binary as "temper" on its PATH, and the plan's data.
	Image string
	// Store is the store URL the workers read the plan from and write to.
	Store string
	// Parallelism is the number of pods at once (0: every item at once).
	Parallelism int
	// BackoffLimitPerIndex is the number of retries of one index (0: none).
	BackoffLimitPerIndex int
	// CPUs requested per pod (the item recipes' thread count).
	CPUs int
	// Memory requested per pod, in bytes (scaleout.EstimateMemory).
	Memory uint64
	// MemoryNote explains Memory (an annotation on the Job).
	MemoryNote string
	// PVC, for a file:// store: a ReadWriteMany PersistentVolumeClaim mounted at the
	// store's folder in every pod.
	PVC string
	// SecretEnv, for an s3:// store: a Secret whose keys become environment variables
	// (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, ...).
	SecretEnv string
	// Args are further worker flags (e.g. --metrics-format katib).
	Args []string
	// TTLSecondsAfterFinished deletes the finished Job after this long (0: kept).
	TTLSecondsAfterFinished int
}

// JobFor returns the Indexed Job that runs every item of p (see the package comment).
func JobFor(p *scaleout.Plan, o JobOptions) (*batchv1.Job, error) {
	if o.Image == "" {
		return nil, fmt.Errorf("k8s: no image (the image that holds temper and the data)")
	}
	loc, err := store.ParseURL(o.Store)
	if err != nil {
		return nil, err
	}
	if loc.Scheme == "file" && o.PVC == "" {
		return nil, fmt.Errorf("k8s: a file:// store %s is a folder every pod must see: give the ReadWriteMany PersistentVolumeClaim to mount there, or use an s3:// store", o.Store)
	}
	if o.Name == "" {
		o.Name = "temper-" + p.Kind + "-" + p.SHA256[:8]
	}
	n := int32(len(p.Items))
	par := n
	if o.Parallelism > 0 && int32(o.Parallelism) < n {
		par = int32(o.Parallelism)
	}
	if o.Parallelism < 0 {
		return nil, fmt.Errorf("k8s: parallelism %d out of range [0, ∞) (0 = every item at once)", o.Parallelism)
	}
	if o.BackoffLimitPerIndex < 0 {
		return nil, fmt.Errorf("k8s: backoff limit per index %d out of range [0, ∞)", o.BackoffLimitPerIndex)
	}
	if o.CPUs < 1 {
		return nil, fmt.Errorf("k8s: cpus %d out of range [1, ∞)", o.CPUs)
	}
	args := []string{"worker", "--store", o.Store, "--plan-sha256", p.SHA256}
	args = append(args, o.Args...)
	mem := resource.NewQuantity(int64(roundMiB(o.Memory)), resource.BinarySI)
	limit := resource.NewQuantity(int64(roundMiB(o.Memory*3/2)), resource.BinarySI)
	c := corev1.Container{
		Name:    ContainerName,
		Image:   o.Image,
		Command: []string{"temper"},
		Args:    args,
		Env: []corev1.EnvVar{
			// The pod's name (unique per retry) names the worker's attempt folder.
			{Name: "TEMPER_ATTEMPT", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
			{Name: "GOMEMLIMIT", Value: strconv.FormatUint(roundMiB(o.Memory*3/2)*9/10, 10)},
		},
		Resources: corev1.ResourceRequirements{
			Requests: corev1.ResourceList{corev1.ResourceCPU: *resource.NewQuantity(int64(o.CPUs), resource.DecimalSI), corev1.ResourceMemory: *mem},
			Limits:   corev1.ResourceList{corev1.ResourceMemory: *limit},
		},
	}
	if o.SecretEnv != "" {
		c.EnvFrom = []corev1.EnvFromSource{{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: o.SecretEnv}}}}
	}
	spec := corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever, Containers: []corev1.Container{c}}
	if loc.Scheme == "file" {
		spec.Volumes = []corev1.Volume{{Name: "store", VolumeSource: corev1.VolumeSource{
			PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: o.PVC}}}}
		spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "store", MountPath: loc.Dir}}
	}
	mode := batchv1.IndexedCompletion
	job := &batchv1.Job{
		TypeMeta: metav1.TypeMeta{APIVersion: "batch/v1", Kind: "Job"},
		ObjectMeta: metav1.ObjectMeta{Name: o.Name, Namespace: o.Namespace,
			Labels: map[string]string{"app.kubernetes.io/name": "temper", "temper.dev/plan-kind": p.Kind},
			Annotations: map[string]string{"temper.dev/plan-sha256": p.SHA256, "temper.dev/store": o.Store,
				"temper.dev/memory-estimate": o.MemoryNote}},
		Spec: batchv1.JobSpec{
			CompletionMode:       &mode,
			Completions:          &n,
			Parallelism:          &par,
			BackoffLimitPerIndex: ptr(int32(o.BackoffLimitPerIndex)),
			PodFailurePolicy: &batchv1.PodFailurePolicy{Rules: []batchv1.PodFailurePolicyRule{
				{Action: batchv1.PodFailurePolicyActionIgnore, OnPodConditions: []batchv1.PodFailurePolicyOnPodConditionsPattern{
					{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue}}},
				{Action: batchv1.PodFailurePolicyActionFailIndex, OnExitCodes: &batchv1.PodFailurePolicyOnExitCodesRequirement{
					ContainerName: ptr(ContainerName), Operator: batchv1.PodFailurePolicyOnExitCodesOpIn,
					Values: []int32{exitcode.Usage, exitcode.Diverged}}},
			}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app.kubernetes.io/name": "temper"}},
				Spec:       spec,
			},
		},
	}
	if o.MemoryNote == "" {
		delete(job.Annotations, "temper.dev/memory-estimate")
	}
	if o.TTLSecondsAfterFinished > 0 {
		job.Spec.TTLSecondsAfterFinished = ptr(int32(o.TTLSecondsAfterFinished))
	}
	if err := Validate(job); err != nil {
		return nil, err
	}
	return job, nil
}

func ptr[T any](v T) *T { return &v }

// roundMiB rounds b up to whole MiB (at least 1 MiB).
func roundMiB(b uint64) uint64 { return max(1, (b+(1<<20)-1)>>20) << 20 }

// Marshal writes obj (a Job, an Experiment) as YAML.
func Marshal(obj any) ([]byte, error) {
	b, err := yaml.Marshal(obj)
	if err != nil {
		return nil, fmt.Errorf("k8s: %w", err)
	}
	return b, nil
}

// DecodeJob reads a Job's YAML strictly: an unknown or misspelt field is an error, as
// the API server's strict field validation (kubectl apply --validate=strict) makes it.
func DecodeJob(b []byte) (*batchv1.Job, error) {
	job := new(batchv1.Job)
	if err := yaml.UnmarshalStrict(b, job); err != nil {
		return nil, fmt.Errorf("k8s: not a batch/v1 Job: %w", err)
	}
	if job.APIVersion != "batch/v1" || job.Kind != "Job" {
		return nil, fmt.Errorf("k8s: apiVersion %q kind %q, want batch/v1 Job", job.APIVersion, job.Kind)
	}
	return job, nil
}
