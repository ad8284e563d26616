package k8s_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/temperml/temper/recipe"
	"github.com/temperml/temper/scaleout"
	"github.com/temperml/temper/scaleout/k8s"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func plan(t *testing.T) *scaleout.Plan {
	t.Helper()
	r := recipe.Default()
	r.Threads = 2
	e := recipe.DefaultEnsemble(r)
	p, err := scaleout.PlanEnsemble(e)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s differs from the golden file (go test -update to rewrite):\n%s", name, got)
	}
}

func TestJobGoldenStrictValid(t *testing.T) {
	p := plan(t)
	job, err := k8s.JobFor(p, k8s.JobOptions{Image: "registry.example/temper:v1", Store: "s3://runs/ens1?endpoint=http://minio.minio:9000",
		Parallelism: 2, BackoffLimitPerIndex: 2, CPUs: 2, Memory: 700 << 20, MemoryNote: "a note explaining the request",
		SecretEnv: "s3-credentials", TTLSecondsAfterFinished: 86400})
	if err != nil {
		t.Fatal(err)
	}
	b, err := k8s.Marshal(job)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "job-ensemble.yaml", b)
	back, err := k8s.DecodeJob(b)
	if err != nil {
		t.Fatal(err)
	}
	if err := k8s.Validate(back); err != nil {
		t.Fatal(err)
	}
	s := back.Spec
	if *s.CompletionMode != batchv1.IndexedCompletion || *s.Completions != 5 || *s.Parallelism != 2 || *s.BackoffLimitPerIndex != 2 ||
		s.Template.Spec.RestartPolicy != corev1.RestartPolicyNever {
		t.Fatalf("spec %+v", s)
	}
	rules := s.PodFailurePolicy.Rules
	if rules[0].Action != batchv1.PodFailurePolicyActionIgnore || rules[0].OnPodConditions[0].Type != corev1.DisruptionTarget ||
		rules[1].Action != batchv1.PodFailurePolicyActionFailIndex || !slices.Equal(rules[1].OnExitCodes.Values, []int32{2, 3}) {
		t.Fatalf("pod failure policy %+v", rules)
	}
	c := s.Template.Spec.Containers[0]
	if !strings.Contains(strings.Join(c.Args, " "), "--plan-sha256 "+p.SHA256) {
		t.Fatalf("args %v do not pin the plan", c.Args)
	}
	if got := c.Resources.Requests.Memory().Value(); got != 700<<20 {
		t.Fatalf("memory request %d", got)
	}
	// A misspelt field is refused, as kubectl apply --validate=strict refuses it.
	if _, err := k8s.DecodeJob(bytes.Replace(b, []byte("backoffLimitPerIndex"), []byte("backofLimitPerIndex"), 1)); err == nil {
		t.Fatal("strict decode accepted a misspelt field")
	}
}

func TestJobFileStoreNeedsVolume(t *testing.T) {
	p := plan(t)
	if _, err := k8s.JobFor(p, k8s.JobOptions{Image: "i", Store: "file:///shared/run", CPUs: 1, Memory: 1 << 30}); err == nil || !strings.Contains(err.Error(), "PersistentVolumeClaim") {
		t.Fatalf("file store without a volume: %v", err)
	}
	job, err := k8s.JobFor(p, k8s.JobOptions{Image: "i", Store: "file:///shared/run", PVC: "runs", CPUs: 1, Memory: 1 << 30})
	if err != nil {
		t.Fatal(err)
	}
	if m := job.Spec.Template.Spec.Containers[0].VolumeMounts; len(m) != 1 || m[0].MountPath != "/shared/run" {
		t.Fatalf("mounts %+v", m)
	}
}

// Each of the API server's checks that Validate makes refuses the Job it should.
func TestValidateRefuses(t *testing.T) {
	p := plan(t)
	base := func() *batchv1.Job {
		job, err := k8s.JobFor(p, k8s.JobOptions{Image: "i", Store: "s3://b", CPUs: 1, Memory: 1 << 30})
		if err != nil {
			t.Fatal(err)
		}
		return job
	}
	n := int32(-1)
	cases := map[string]func(j *batchv1.Job){
		"metadata.name":                   func(j *batchv1.Job) { j.Name = "Temper_Job" },
		"pod host name":                   func(j *batchv1.Job) { j.Name = strings.Repeat("a", 62) },
		"spec.completions: required":      func(j *batchv1.Job) { j.Spec.Completions = nil },
		"spec.parallelism":                func(j *batchv1.Job) { v := int32(100001); j.Spec.Parallelism = &v },
		"restartPolicy Never":             func(j *batchv1.Job) { j.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyOnFailure },
		"want Never or OnFailure":         func(j *batchv1.Job) { j.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyAlways },
		"requires completionMode Indexed": func(j *batchv1.Job) { m := batchv1.NonIndexedCompletion; j.Spec.CompletionMode = &m },
		"backoffLimitPerIndex -1":         func(j *batchv1.Job) { j.Spec.BackoffLimitPerIndex = &n },
		"FailIndex: requires":             func(j *batchv1.Job) { j.Spec.BackoffLimitPerIndex = nil },
		"maxFailedIndexes 9":              func(j *batchv1.Job) { v := int32(9); j.Spec.MaxFailedIndexes = &v },
		"0 is not allowed":                func(j *batchv1.Job) { j.Spec.PodFailurePolicy.Rules[1].OnExitCodes.Values = []int32{0, 2} },
		"must be sorted":                  func(j *batchv1.Job) { j.Spec.PodFailurePolicy.Rules[1].OnExitCodes.Values = []int32{3, 2} },
		"no such container":               func(j *batchv1.Job) { c := "main"; j.Spec.PodFailurePolicy.Rules[1].OnExitCodes.ContainerName = &c },
		"exactly one of onExitCodes": func(j *batchv1.Job) {
			j.Spec.PodFailurePolicy.Rules[0].OnExitCodes = j.Spec.PodFailurePolicy.Rules[1].OnExitCodes
		},
		"want True, False or Unknown": func(j *batchv1.Job) { j.Spec.PodFailurePolicy.Rules[0].OnPodConditions[0].Status = "Yes" },
		"containers[0].image":         func(j *batchv1.Job) { j.Spec.Template.Spec.Containers[0].Image = "" },
		"must be <= the limit": func(j *batchv1.Job) {
			j.Spec.Template.Spec.Containers[0].Resources.Limits[corev1.ResourceMemory] = resource.MustParse("1Mi")
		},
		"onExitCodes.values: 0 values": func(j *batchv1.Job) { j.Spec.PodFailurePolicy.Rules[1].OnExitCodes.Values = nil },
		"at most 20": func(j *batchv1.Job) {
			r := j.Spec.PodFailurePolicy.Rules
			for range 20 {
				r = append(r, r[0])
			}
			j.Spec.PodFailurePolicy.Rules = r
		},
	}
	for want, edit := range cases {
		j := base()
		edit(j)
		err := k8s.Validate(j)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: Validate = %v", want, err)
		}
	}
	if err := k8s.Validate(base()); err != nil {
		t.Fatal(err)
	}
}
