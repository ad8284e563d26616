package k8s

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
)

// Validate makes the API server's checks of the fields an Indexed Job of temper's uses,
// written out explicitly (the server's own code, k8s.io/kubernetes/pkg/apis/batch/
// validation, is not a library one should import). Sources: the field documentation of
// k8s.io/api/batch/v1 (types.go, v0.37.2: JobSpec.CompletionMode, BackoffLimitPerIndex,
// MaxFailedIndexes, PodFailurePolicy, PodFailurePolicyRule, OnExitCodesRequirement) and
// https://kubernetes.io/docs/concepts/workloads/controllers/job/ (sections "Completion
// mode", "Backoff limit per index", "Pod failure policy"). It returns every violation,
// one per line.
func Validate(job *batchv1.Job) error {
	var errs []string
	bad := func(format string, a ...any) { errs = append(errs, fmt.Sprintf(format, a...)) }
	s := &job.Spec

	// metadata.name: a DNS-1123 subdomain, and (being the job-name label's value) at most
	// 63 characters; with Indexed completion the pods' host names are NAME-INDEX, DNS
	// labels of at most 63 characters.
	for _, m := range validation.IsDNS1123Subdomain(job.Name) {
		bad("metadata.name %q: %s", job.Name, m)
	}
	if len(job.Name) > validation.LabelValueMaxLength {
		bad("metadata.name %q: longer than %d characters (it is the value of the batch.kubernetes.io/job-name label)", job.Name, validation.LabelValueMaxLength)
	}
	if job.Namespace != "" {
		for _, m := range validation.IsDNS1123Label(job.Namespace) {
			bad("metadata.namespace %q: %s", job.Namespace, m)
		}
	}
	indexed := s.CompletionMode != nil && *s.CompletionMode == batchv1.IndexedCompletion
	if s.CompletionMode != nil && !indexed && *s.CompletionMode != batchv1.NonIndexedCompletion {
		bad("spec.completionMode %q: want NonIndexed or Indexed", *s.CompletionMode)
	}
	if s.Parallelism != nil && *s.Parallelism < 0 {
		bad("spec.parallelism %d: must be >= 0", *s.Parallelism)
	}
	if s.Completions != nil && *s.Completions < 0 {
		bad("spec.completions %d: must be >= 0", *s.Completions)
	}
	if indexed {
		// "When value is Indexed, .spec.completions must be specified and .spec.parallelism
		// must be less than or equal to 10^5."
		if s.Completions == nil {
			bad("spec.completions: required when completionMode is Indexed")
		} else if host := fmt.Sprintf("%s-%d", job.Name, *s.Completions-1); len(host) > validation.DNS1123LabelMaxLength {
			bad("metadata.name %q: the pod host name %q is longer than %d characters", job.Name, host, validation.DNS1123LabelMaxLength)
		}
		if s.Parallelism != nil && *s.Parallelism > 100000 {
			bad("spec.parallelism %d: must be <= 100000 for an Indexed Job", *s.Parallelism)
		}
	}
	restart := s.Template.Spec.RestartPolicy
	// "The only allowed template.spec.restartPolicy values are Never or OnFailure."
	if restart != corev1.RestartPolicyNever && restart != corev1.RestartPolicyOnFailure {
		bad("spec.template.spec.restartPolicy %q: want Never or OnFailure", restart)
	}
	if s.BackoffLimitPerIndex != nil {
		// "It can only be set when Job's completionMode=Indexed, and the Pod's restart
		// policy is Never."
		if *s.BackoffLimitPerIndex < 0 {
			bad("spec.backoffLimitPerIndex %d: must be >= 0", *s.BackoffLimitPerIndex)
		}
		if !indexed {
			bad("spec.backoffLimitPerIndex: requires completionMode Indexed")
		}
		if restart != corev1.RestartPolicyNever {
			bad("spec.backoffLimitPerIndex: requires restartPolicy Never, not %q", restart)
		}
	}
	if m := s.MaxFailedIndexes; m != nil {
		// "It can only be specified when backoffLimitPerIndex is set. It can be null or up
		// to completions. It is required and must be less than or equal to 10^4 when is
		// completions greater than 10^5."
		if s.BackoffLimitPerIndex == nil {
			bad("spec.maxFailedIndexes: requires backoffLimitPerIndex")
		}
		if *m < 0 || (s.Completions != nil && *m > *s.Completions) {
			bad("spec.maxFailedIndexes %d: want 0..completions", *m)
		}
	}
	if s.Completions != nil && *s.Completions > 100000 && s.BackoffLimitPerIndex != nil && (s.MaxFailedIndexes == nil || *s.MaxFailedIndexes > 10000) {
		bad("spec.maxFailedIndexes: required and <= 10000 when completions (%d) > 100000", *s.Completions)
	}
	containers := map[string]bool{}
	if len(s.Template.Spec.Containers) == 0 {
		bad("spec.template.spec.containers: at least one container")
	}
	for i, c := range s.Template.Spec.Containers {
		for _, m := range validation.IsDNS1123Label(c.Name) {
			bad("spec.template.spec.containers[%d].name %q: %s", i, c.Name, m)
		}
		if containers[c.Name] {
			bad("spec.template.spec.containers[%d].name %q: duplicate", i, c.Name)
		}
		containers[c.Name] = true
		if strings.TrimSpace(c.Image) == "" {
			bad("spec.template.spec.containers[%d].image: required", i)
		}
		for name, req := range c.Resources.Requests {
			if lim, ok := c.Resources.Limits[name]; ok && req.Cmp(lim) > 0 {
				bad("spec.template.spec.containers[%d].resources.requests[%s] %s: must be <= the limit %s", i, name, req.String(), lim.String())
			}
		}
	}
	if pfp := s.PodFailurePolicy; pfp != nil {
		// "This field cannot be used in combination with restartPolicy=OnFailure."
		if restart == corev1.RestartPolicyOnFailure {
			bad("spec.podFailurePolicy: not allowed with restartPolicy OnFailure")
		}
		if len(pfp.Rules) > 20 {
			bad("spec.podFailurePolicy.rules: %d rules, at most 20", len(pfp.Rules))
		}
		for i, r := range pfp.Rules {
			at := fmt.Sprintf("spec.podFailurePolicy.rules[%d]", i)
			switch r.Action {
			case batchv1.PodFailurePolicyActionFailJob, batchv1.PodFailurePolicyActionIgnore, batchv1.PodFailurePolicyActionCount:
			case batchv1.PodFailurePolicyActionFailIndex:
				// "This action can only be used when backoffLimitPerIndex is set."
				if s.BackoffLimitPerIndex == nil {
					bad("%s.action FailIndex: requires spec.backoffLimitPerIndex", at)
				}
			default:
				bad("%s.action %q: want FailJob, FailIndex, Ignore or Count", at, r.Action)
			}
			// "One of onExitCodes and onPodConditions, but not both, can be used in each rule."
			if (r.OnExitCodes == nil) == (len(r.OnPodConditions) == 0) {
				bad("%s: exactly one of onExitCodes and onPodConditions", at)
			}
			if e := r.OnExitCodes; e != nil {
				if e.ContainerName != nil && !containers[*e.ContainerName] {
					bad("%s.onExitCodes.containerName %q: no such container", at, *e.ContainerName)
				}
				if e.Operator != batchv1.PodFailurePolicyOnExitCodesOpIn && e.Operator != batchv1.PodFailurePolicyOnExitCodesOpNotIn {
					bad("%s.onExitCodes.operator %q: want In or NotIn", at, e.Operator)
				}
				// "The list of values must be ordered and must not contain duplicates. Value
				// '0' cannot be used for the In operator. At least one element is required.
				// At most 255 elements are allowed."
				if len(e.Values) == 0 || len(e.Values) > 255 {
					bad("%s.onExitCodes.values: %d values, want 1..255", at, len(e.Values))
				}
				if !slices.IsSorted(e.Values) || len(slices.Compact(slices.Clone(e.Values))) != len(e.Values) {
					bad("%s.onExitCodes.values %v: must be sorted, without duplicates", at, e.Values)
				}
				if e.Operator == batchv1.PodFailurePolicyOnExitCodesOpIn && slices.Contains(e.Values, 0) {
					bad("%s.onExitCodes.values: 0 is not allowed with operator In", at)
				}
			}
			// "At most 20 elements are allowed." Status: True, False or Unknown.
			if len(r.OnPodConditions) > 20 {
				bad("%s.onPodConditions: %d patterns, at most 20", at, len(r.OnPodConditions))
			}
			for j, pc := range r.OnPodConditions {
				if pc.Type == "" {
					bad("%s.onPodConditions[%d].type: required", at, j)
				}
				if pc.Status != corev1.ConditionTrue && pc.Status != corev1.ConditionFalse && pc.Status != corev1.ConditionUnknown {
					bad("%s.onPodConditions[%d].status %q: want True, False or Unknown", at, j, pc.Status)
				}
			}
		}
	}
	if len(errs) > 0 {
		return errors.New("k8s: invalid Job: " + strings.Join(errs, "; "))
	}
	return nil
}
