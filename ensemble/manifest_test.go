package ensemble_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/temperml/temper/ensemble"
	"github.com/temperml/temper/nn"
)

// writeEnsemble saves members built from seeds into dir with a manifest.
func writeEnsemble(t *testing.T, dir string, seeds ...uint64) []nn.Module {
	t.Helper()
	man := &ensemble.Manifest{Kind: ensemble.KindIndependent}
	var ms []nn.Module
	for i, s := range seeds {
		m := buildModel(t, s)
		// Non-default buffers, to check they travel too.
		for _, b := range nn.Buffers(m) {
			for j := range b.T.Data() {
				b.T.Data()[j] = float32(i+1) * 0.25
			}
		}
		mb := ensemble.Member{Name: "m" + string(rune('0'+i)), Path: "members/m" + string(rune('0'+i)) + ".safetensors",
			Model: "ensemble-test-bn", InShape: []int{8}, Classes: 3, Seed: s}
		if err := ensemble.SaveMember(dir, &mb, m, map[string]string{"note": "test"}); err != nil {
			t.Fatal(err)
		}
		man.Members = append(man.Members, mb)
		ms = append(ms, m)
	}
	if err := man.Write(dir); err != nil {
		t.Fatal(err)
	}
	return ms
}

func TestManifestMoveAndReload(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "a")
	orig := writeEnsemble(t, dir, 1, 2)
	moved := filepath.Join(root, "elsewhere", "b")
	if err := os.MkdirAll(filepath.Dir(moved), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(dir, moved); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{moved, filepath.Join(moved, ensemble.ManifestFile)} {
		if err := ensemble.Verify(p); err != nil {
			t.Fatalf("Verify(%s): %v", p, err)
		}
		e, man, err := ensemble.Load(p, nil, ensemble.Config{})
		if err != nil {
			t.Fatalf("Load(%s): %v", p, err)
		}
		if len(e.Members) != 2 || man.Kind != ensemble.KindIndependent || e.Names[1] != "m1" {
			t.Fatalf("loaded %d members, kind %q, names %v", len(e.Members), man.Kind, e.Names)
		}
		for k := range orig {
			if !equalFloats(weights(e.Members[k]), weights(orig[k])) {
				t.Errorf("member %d: weights differ after reload", k)
			}
		}
	}
}

func TestManifestMissingOrAlteredMember(t *testing.T) {
	tests := []struct {
		name   string
		damage func(t *testing.T, dir string)
		want   error
		msg    string
	}{
		{"missing", func(t *testing.T, dir string) {
			if err := os.Remove(filepath.Join(dir, "members", "m1.safetensors")); err != nil {
				t.Fatal(err)
			}
		}, ensemble.ErrMissingMember, "members/m1.safetensors"},
		{"altered", func(t *testing.T, dir string) {
			p := filepath.Join(dir, "members", "m0.safetensors")
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			b[len(b)-1] ^= 0x40 // flip a bit of the last weight
			if err := os.WriteFile(p, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}, ensemble.ErrChecksum, "members/m0.safetensors"},
		{"replaced by another member", func(t *testing.T, dir string) {
			b, err := os.ReadFile(filepath.Join(dir, "members", "m1.safetensors"))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "members", "m0.safetensors"), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}, ensemble.ErrChecksum, "member 0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeEnsemble(t, dir, 1, 2)
			tc.damage(t, dir)
			for _, f := range []func() error{
				func() error { return ensemble.Verify(dir) },
				func() error { _, _, err := ensemble.Load(dir, nil, ensemble.Config{}); return err },
			} {
				err := f()
				var me *ensemble.MemberError
				if !errors.Is(err, tc.want) || !errors.As(err, &me) {
					t.Fatalf("error %v, want one wrapping %v", err, tc.want)
				}
				if !strings.Contains(err.Error(), tc.msg) || !strings.Contains(err.Error(), ensemble.ManifestFile) {
					t.Errorf("error %q does not name %q and the manifest", err, tc.msg)
				}
			}
		})
	}
}

func TestManifestInvalid(t *testing.T) {
	good := `{"format":"temper-ensemble/1","kind":"independent","combine":"probabilities","members":[{"name":"a","path":"a.safetensors","sha256":"` +
		strings.Repeat("0", 64) + `","model":"mlp","in_shape":[8],"classes":3,"seed":1}]}`
	tests := []struct {
		name, text, want string
	}{
		{"escaping path", strings.Replace(good, `"a.safetensors"`, `"../a.safetensors"`, 1), "relative path"},
		{"absolute path", strings.Replace(good, `"a.safetensors"`, `"/tmp/a.safetensors"`, 1), "relative path"},
		{"bad format", strings.Replace(good, "temper-ensemble/1", "other/9", 1), "format"},
		{"short sha", strings.Replace(good, strings.Repeat("0", 64), "abc", 1), "sha256"},
		{"no members", `{"format":"temper-ensemble/1","kind":"independent","combine":"vote","members":[]}`, "no members"},
		{"bad combine", strings.Replace(good, "probabilities", "median", 1), "combine"},
		{"unknown field", strings.Replace(good, `"kind"`, `"kindd"`, 1), "unknown field"},
		{"not json", "{", "not a valid manifest"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, ensemble.ManifestFile), []byte(tc.text), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := ensemble.ReadManifest(dir)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one mentioning %q", err, tc.want)
			}
		})
	}
	if _, err := ensemble.ReadManifest(filepath.Join(t.TempDir(), "nothing")); err == nil {
		t.Error("missing manifest: no error")
	}
}
