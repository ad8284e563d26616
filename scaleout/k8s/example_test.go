package k8s_test

import (
	"fmt"

	"github.com/temperml/temper/recipe"
	"github.com/temperml/temper/scaleout"
	"github.com/temperml/temper/scaleout/k8s"
)

// The Indexed Job of a plan of 5 ensemble members.
func ExampleJobFor() {
	r := recipe.Default()
	r.Threads = 2
	p, _ := scaleout.PlanEnsemble(recipe.DefaultEnsemble(r))
	job, err := k8s.JobFor(p, k8s.JobOptions{Image: "registry.example/temper:v1", Store: "s3://runs/ens1?endpoint=http://minio:9000",
		Parallelism: 2, BackoffLimitPerIndex: 2, CPUs: r.Threads, Memory: 512 << 20, SecretEnv: "s3-credentials"})
	if err != nil {
		fmt.Println(err)
		return
	}
	s := job.Spec
	fmt.Println(*s.CompletionMode, *s.Completions, *s.Parallelism, s.Template.Spec.RestartPolicy, *s.BackoffLimitPerIndex)
	for _, rule := range s.PodFailurePolicy.Rules {
		if rule.OnExitCodes != nil {
			fmt.Println(rule.Action, "on exit codes", rule.OnExitCodes.Values)
		} else {
			fmt.Println(rule.Action, "on", rule.OnPodConditions[0].Type)
		}
	}
	// Output:
	// Indexed 5 2 Never 2
	// Ignore on DisruptionTarget
	// FailIndex on exit codes [2 3]
}
