// Package deploy holds the deployment files (container, compose, Helm, systemd, nginx); its
// tests validate them here, without a Docker engine or a cluster: the binary built the way the
// Dockerfile builds it, the compose file read by compose-go (docker compose's own loader), and
// the chart linted by Helm and every rendered manifest decoded strictly into the Kubernetes API
// types.
package deploy

import (
	"bytes"
	"context"
	"debug/elf"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"sigs.k8s.io/yaml"
)

// The build stage's go build, run here exactly as written: a static binary (no interpreter,
// CGO off) that knows its commit.
func TestDockerfileBuild(t *testing.T) {
	df, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^RUN (CGO_ENABLED=0 go build .*)$`).FindSubmatch(df)
	if m == nil {
		t.Fatal("the Dockerfile has no RUN CGO_ENABLED=0 go build line")
	}
	out := filepath.Join(t.TempDir(), "gradpath")
	line := strings.Replace(string(m[1]), "/out/gradpath", out, 1)
	cmd := exec.Command("sh", "-c", line)
	cmd.Dir = ".." // the Dockerfile's context is the repository
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", line, err, b)
	}
	f, err := elf.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("the binary is dynamically linked: it would not run on distroless/static")
		}
	}
	version, err := exec.Command(out, "version").Output()
	if err != nil {
		t.Fatal(err)
	}
	if head, err := exec.Command("git", "rev-parse", "HEAD").Output(); err == nil && !strings.Contains(string(version), string(head[:12])) {
		t.Errorf("the image's gradpath version says %q, not the commit %s", version, head[:12])
	}
	// The health check the Dockerfile declares is a command the binary has.
	if !bytes.Contains(df, []byte(`"probe", "--url", "http://127.0.0.1:8080/readyz"`)) {
		t.Error("the HEALTHCHECK does not use gradpath probe")
	}
	if b, err := exec.Command(out, "probe", "-h").CombinedOutput(); err != nil {
		t.Errorf("gradpath probe -h: %v\n%s", err, b)
	}
}

// The compose file as docker compose reads it: every service, the replicas read-only with the
// shared settings, and the required secrets required.
func TestComposeFile(t *testing.T) {
	dir, err := filepath.Abs("compose")
	if err != nil {
		t.Fatal(err)
	}
	load := func(env map[string]string) (*types.Project, error) {
		return loader.LoadWithContext(context.Background(), types.ConfigDetails{WorkingDir: dir,
			ConfigFiles: []types.ConfigFile{{Filename: filepath.Join(dir, "compose.yaml")}}, Environment: env},
			func(o *loader.Options) { o.SetProjectName("gradpath", true) })
	}
	p, err := load(map[string]string{"POSTGRES_PASSWORD": "s3cret", "GRADPATH_PUBLIC_URL": "https://apply.agency.example"})
	if err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	for _, name := range []string{"postgres", "redis", "nats", "migrate", "gradpath-1", "gradpath-2", "nginx"} {
		if _, err := p.GetService(name); err != nil {
			t.Errorf("no service %s: %v", name, err)
		}
	}
	for _, name := range []string{"gradpath-1", "gradpath-2"} {
		s, _ := p.GetService(name)
		if !s.ReadOnly || s.Environment["GRADPATH_DATABASE_URL"] == nil || !strings.Contains(*s.Environment["GRADPATH_DATABASE_URL"], "s3cret@postgres") {
			t.Errorf("%s: read_only %v, environment %v", name, s.ReadOnly, s.Environment)
		}
		if s.Build == nil || s.Build.Dockerfile != "deploy/Dockerfile" || s.HealthCheck == nil {
			t.Errorf("%s: build %+v, health check %+v", name, s.Build, s.HealthCheck)
		}
	}
	nginx, _ := p.GetService("nginx")
	if len(nginx.Volumes) != 1 || !strings.HasSuffix(nginx.Volumes[0].Source, filepath.Join("deploy", "nginx", "gradpath.conf")) {
		t.Errorf("nginx mounts %+v, want deploy/nginx/gradpath.conf", nginx.Volumes)
	}
	if _, err := load(map[string]string{"GRADPATH_PUBLIC_URL": "https://apply.agency.example"}); err == nil || !strings.Contains(err.Error(), "POSTGRES_PASSWORD") {
		t.Errorf("without POSTGRES_PASSWORD: %v", err)
	}
}

// helm is the Helm binary: GRADPATH_TEST_HELM, or helm on PATH; in CI a missing one fails.
func helm(t *testing.T) string {
	if p := os.Getenv("GRADPATH_TEST_HELM"); p != "" {
		return p
	}
	if p, err := exec.LookPath("helm"); err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("GRADPATH_TEST_HELM is not set: CI must lint the chart")
	}
	t.Skip("set GRADPATH_TEST_HELM (go install helm.sh/helm/v4/cmd/helm@v4.3.2) to lint the chart")
	return ""
}

// The chart passes helm lint --strict, and everything it renders decodes into the Kubernetes
// API types with no field left over; the replicas are probed, bounded and unprivileged.
func TestHelmChart(t *testing.T) {
	bin := helm(t)
	run := func(args ...string) []byte {
		t.Helper()
		out, err := exec.Command(bin, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("helm %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}
	if strictDecode("kind: Service\nspec:\n  prots: []\n", &corev1.Service{}) == nil {
		t.Fatal("strict decoding let a misspelt field through")
	}
	run("lint", "--strict", "helm/gradpath")
	for _, set := range [][]string{nil, {"--set", "autoscaling.enabled=false,ingress.enabled=false,existingSecret=agency-secrets,migrations.enabled=false"}} {
		rendered := run(append([]string{"template", "agency", "helm/gradpath"}, set...)...)
		kinds := map[string]int{}
		for _, doc := range strings.Split(string(rendered), "\n---") {
			if strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(doc), "---")) == "" {
				continue
			}
			var head struct{ APIVersion, Kind string }
			if err := yaml.Unmarshal([]byte(doc), &head); err != nil {
				t.Fatalf("a rendered manifest is not YAML: %v\n%s", err, doc)
			}
			kinds[head.Kind]++
			obj := map[string]any{
				"Deployment": &appsv1.Deployment{}, "Service": &corev1.Service{}, "ConfigMap": &corev1.ConfigMap{}, "Secret": &corev1.Secret{},
				"Ingress": &networkingv1.Ingress{}, "PodDisruptionBudget": &policyv1.PodDisruptionBudget{},
				"HorizontalPodAutoscaler": &autoscalingv2.HorizontalPodAutoscaler{}, "Job": &batchv1.Job{},
			}[head.Kind]
			if obj == nil {
				t.Errorf("the chart renders a %s (%s) this test does not know", head.Kind, head.APIVersion)
				continue
			}
			if err := strictDecode(doc, obj); err != nil {
				t.Errorf("%s: %v", head.Kind, err)
			}
			if d, ok := obj.(*appsv1.Deployment); ok {
				checkDeployment(t, d)
			}
		}
		t.Logf("rendered %v with %v", kinds, set)
		if kinds["Deployment"] != 1 || kinds["Service"] != 1 || kinds["ConfigMap"] != 1 {
			t.Errorf("rendered %v", kinds)
		}
		if set == nil && (kinds["HorizontalPodAutoscaler"] != 1 || kinds["PodDisruptionBudget"] != 1 || kinds["Ingress"] != 1 || kinds["Job"] != 1 || kinds["Secret"] != 1) {
			t.Errorf("the defaults render %v, want an autoscaler, a disruption budget, an ingress, a migration job and a secret", kinds)
		}
		if set != nil && (kinds["Secret"] != 0 || kinds["Job"] != 0 || kinds["HorizontalPodAutoscaler"] != 0) {
			t.Errorf("with an existing secret and no autoscaling: %v", kinds)
		}
	}
}

// strictDecode decodes a YAML manifest into obj, refusing any field the type does not have.
func strictDecode(doc string, obj any) error {
	j, err := yaml.YAMLToJSON([]byte(doc))
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.DisallowUnknownFields()
	return dec.Decode(obj)
}

func checkDeployment(t *testing.T, d *appsv1.Deployment) {
	t.Helper()
	c := d.Spec.Template.Spec.Containers[0]
	sc := c.SecurityContext
	switch {
	case c.ReadinessProbe == nil || c.ReadinessProbe.HTTPGet.Path != "/readyz" || c.LivenessProbe == nil || c.LivenessProbe.HTTPGet.Path != "/healthz":
		t.Errorf("probes: readiness %+v, liveness %+v", c.ReadinessProbe, c.LivenessProbe)
	case c.Resources.Requests.Cpu().IsZero() || c.Resources.Limits.Memory().IsZero():
		t.Errorf("resources: %+v", c.Resources)
	case sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
		sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation:
		t.Errorf("security context: %+v", sc)
	}
	if fmt.Sprint(d.Spec.Selector.MatchLabels) == "" {
		t.Error("no selector")
	}
}
