package katib_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/temperml/temper/lrfind"
	"github.com/temperml/temper/scaleout/katib"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func TestExperimentGolden(t *testing.T) {
	e, err := katib.NewExperiment(katib.ExperimentOptions{Name: "temper-lr", Namespace: "kubeflow", Image: "registry.example/temper:v1",
		LR: lrfind.Range{Lo: 1e-4, Hi: 1}, WD: lrfind.Range{Lo: 1e-6, Hi: 1e-2}, Algorithm: "tpe", CPUs: 2, Memory: 512 << 20,
		TrainArgs: []string{"--model=cnn", "--epochs=3", "--val-fraction=0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := yaml.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "experiment.yaml")
	if *update {
		os.WriteFile(path, b, 0o644)
	}
	want, _ := os.ReadFile(path)
	if !bytes.Equal(b, want) {
		t.Fatalf("experiment differs from %s (go test -update):\n%s", path, b)
	}
	var back katib.Experiment
	if err := yaml.UnmarshalStrict(b, &back); err != nil {
		t.Fatal(err)
	}
	s := back.Spec
	if s.Objective.ObjectiveMetricName != katib.ValAccuracy || s.Objective.Type != "maximize" || s.MetricsCollectorSpec.Collector.Kind != "StdOut" {
		t.Fatalf("objective/collector %+v %+v", s.Objective, s.MetricsCollectorSpec)
	}
	params := map[string]bool{}
	for _, p := range s.Parameters {
		if p.FeasibleSpace.Distribution != "logUniform" || p.ParameterType != "double" {
			t.Errorf("parameter %+v is not a log-uniform double", p)
		}
		params[p.Name] = true
	}
	// Every placeholder of the trial command is a trial parameter that references a
	// searched parameter, and the command runs temper train with Katib's metric lines.
	refs := map[string]string{}
	for _, tp := range s.TrialTemplate.TrialParameters {
		refs[tp.Name] = tp.Reference
	}
	c := s.TrialTemplate.TrialSpec.Spec.Template.Spec.Containers[0]
	cmd := strings.Join(append(c.Command, c.Args...), " ")
	ph := regexp.MustCompile(`\$\{trialParameters\.(\w+)\}`).FindAllStringSubmatch(cmd, -1)
	if len(ph) != 2 {
		t.Fatalf("placeholders in %q", cmd)
	}
	for _, m := range ph {
		if !params[refs[m[1]]] {
			t.Errorf("placeholder %s references %q, not a parameter", m[1], refs[m[1]])
		}
	}
	if !strings.HasPrefix(cmd, "temper train ") || !strings.Contains(cmd, "--metrics-format=katib") || c.Name != s.TrialTemplate.PrimaryContainerName {
		t.Fatalf("trial command %q in container %q", cmd, c.Name)
	}
	if _, err := katib.NewExperiment(katib.ExperimentOptions{Name: "x", Image: "i", LR: lrfind.Range{Lo: 1e-3, Hi: 1}, WD: lrfind.Range{Lo: 1e-5, Hi: 1e-3}, TrainArgs: []string{"--lr=0.1"}}); err == nil {
		t.Error("--lr in the train flags: no error")
	}
	if _, err := katib.NewExperiment(katib.ExperimentOptions{Name: "x", Image: "i", LR: lrfind.Range{Lo: 1, Hi: 1e-3}, WD: lrfind.Range{Lo: 1e-5, Hi: 1e-3}}); err == nil {
		t.Error("inverted range: no error")
	}
}
