package main

import (
	"bytes"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"
)

// kubeManifests are the objects of deploy/kubernetes, decoded strictly.
type kubeManifests struct {
	deployments map[string]*appsv1.Deployment
	services    map[string]*corev1.Service
	pdbs        []*policyv1.PodDisruptionBudget
	hpas        []*autoscalingv2.HorizontalPodAutoscaler
	policies    map[string]*networkingv1.NetworkPolicy
}

// readKubeManifests decodes every document of every YAML file in
// deploy/kubernetes into its k8s.io/api type, failing on an unknown kind
// and, strictly, on any field the type does not have.
func readKubeManifests(t *testing.T) kubeManifests {
	t.Helper()
	files, err := filepath.Glob("../../deploy/kubernetes/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests in deploy/kubernetes: %v", err)
	}
	m := kubeManifests{deployments: map[string]*appsv1.Deployment{}, services: map[string]*corev1.Service{}, policies: map[string]*networkingv1.NetworkPolicy{}}
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for i, doc := range bytes.Split(raw, []byte("\n---\n")) {
			where := fmt.Sprintf("%s document %d", filepath.Base(file), i+1)
			var head struct {
				APIVersion string `json:"apiVersion"`
				Kind       string `json:"kind"`
			}
			if err := yaml.Unmarshal(doc, &head); err != nil {
				t.Fatalf("%s: %v", where, err)
			}
			var obj any
			switch head.APIVersion + " " + head.Kind {
			case "apps/v1 Deployment":
				obj = &appsv1.Deployment{}
			case "v1 Service":
				obj = &corev1.Service{}
			case "policy/v1 PodDisruptionBudget":
				obj = &policyv1.PodDisruptionBudget{}
			case "autoscaling/v2 HorizontalPodAutoscaler":
				obj = &autoscalingv2.HorizontalPodAutoscaler{}
			case "networking.k8s.io/v1 NetworkPolicy":
				obj = &networkingv1.NetworkPolicy{}
			default:
				t.Fatalf("%s: no test knows %s %s", where, head.APIVersion, head.Kind)
			}
			if err := yaml.UnmarshalStrict(doc, obj); err != nil {
				t.Fatalf("%s does not decode strictly as %s: %v", where, head.Kind, err)
			}
			switch o := obj.(type) {
			case *appsv1.Deployment:
				m.deployments[o.Name] = o
			case *corev1.Service:
				m.services[o.Name] = o
			case *policyv1.PodDisruptionBudget:
				m.pdbs = append(m.pdbs, o)
			case *autoscalingv2.HorizontalPodAutoscaler:
				m.hpas = append(m.hpas, o)
			case *networkingv1.NetworkPolicy:
				m.policies[o.Name] = o
			}
		}
	}
	return m
}

// TestKubeStrictDecoding checks that the strict decoding used on the
// manifests does refuse a misspelt field.
func TestKubeStrictDecoding(t *testing.T) {
	doc := []byte("apiVersion: v1\nkind: Service\nmetadata:\n  name: x\nspec:\n  prots:\n    - port: 8080\n")
	if err := yaml.UnmarshalStrict(doc, &corev1.Service{}); err == nil {
		t.Error("a Service with spec.prots decoded strictly")
	}
}

// TestKubernetesManifests checks the fleet's manifests: the proxy's
// Deployment, its Service without the admin port, the disruption budget,
// the autoscaler, the network policy and Redis.
func TestKubernetesManifests(t *testing.T) {
	m := readKubeManifests(t)
	d := m.deployments["cdnproxy"]
	if d == nil {
		t.Fatal("no Deployment cdnproxy")
	}
	labels := d.Spec.Template.Labels
	if d.Spec.Replicas == nil || *d.Spec.Replicas < 2 {
		t.Errorf("replicas = %v, want at least 2", d.Spec.Replicas)
	}
	pod := d.Spec.Template.Spec
	if sc := pod.SecurityContext; sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || sc.RunAsUser == nil || *sc.RunAsUser == 0 {
		t.Error("the pod does not run as a non-root user")
	}
	if len(pod.Containers) != 1 {
		t.Fatalf("%d containers, want 1", len(pod.Containers))
	}
	c := pod.Containers[0]
	if sc := c.SecurityContext; sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
		sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		t.Error("the container's root filesystem is writable or it may escalate privileges")
	}
	for _, res := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		if _, ok := c.Resources.Requests[res]; !ok {
			t.Errorf("no %s request", res)
		}
		if _, ok := c.Resources.Limits[res]; !ok {
			t.Errorf("no %s limit", res)
		}
	}

	// The ports as the environment sets them and as the container names them.
	env := map[string]string{}
	for _, e := range c.Env {
		if e.ValueFrom != nil {
			t.Errorf("%s is set from %v: secrets go in files (*_FILE), the rest as values", e.Name, e.ValueFrom)
		}
		env[e.Name] = e.Value
	}
	ports := map[string]int32{}
	for _, p := range c.Ports {
		ports[p.Name] = p.ContainerPort
	}
	portOf := func(addr string) int32 { return int32(portOf(t, addr)) }
	if ports["api"] == 0 || ports["api"] != portOf(env["CDNPROXY_LISTEN_ADDR"]) {
		t.Errorf("port api %d, CDNPROXY_LISTEN_ADDR %q", ports["api"], env["CDNPROXY_LISTEN_ADDR"])
	}
	if ports["admin"] == 0 || ports["admin"] != portOf(env["CDNPROXY_ADMIN_ADDR"]) {
		t.Errorf("port admin %d, CDNPROXY_ADMIN_ADDR %q", ports["admin"], env["CDNPROXY_ADMIN_ADDR"])
	}
	resolve := func(p intstr.IntOrString) int32 {
		if p.Type == intstr.String {
			return ports[p.StrVal]
		}
		return p.IntVal
	}
	for name, probe := range map[string]*corev1.Probe{"/readyz": c.ReadinessProbe, "/healthz": c.LivenessProbe} {
		if probe == nil || probe.HTTPGet == nil || probe.HTTPGet.Path != name || resolve(probe.HTTPGet.Port) != ports["admin"] {
			t.Errorf("no probe on %s at the admin port: %+v", name, probe)
		}
	}

	// Every variable exists; secrets come as files from a mounted Secret.
	known := map[string]bool{}
	for _, v := range configVariables(t) {
		known[v.name] = true
	}
	mounts := map[string]string{} // mount path to volume
	for _, vm := range c.VolumeMounts {
		mounts[vm.MountPath] = vm.Name
	}
	secretVolumes := map[string]bool{}
	for _, v := range pod.Volumes {
		if v.Secret != nil {
			secretVolumes[v.Name] = true
		}
	}
	for name, value := range env {
		if strings.HasPrefix(name, envPrefix) && !known[name] {
			t.Errorf("%s is not a cdnproxy variable", name)
		}
		if strings.HasSuffix(name, "_FILE") {
			if vol := mounts[filepath.Dir(value)]; !secretVolumes[vol] {
				t.Errorf("%s=%s is not in a mounted Secret", name, value)
			}
		}
	}
	for _, secret := range []string{"CDNPROXY_SECRET_ID", "CDNPROXY_SECRET_KEY", "CDNPROXY_CLIENT_KEYS", "CDNPROXY_CLIENT_TOKEN"} {
		if _, ok := env[secret]; ok {
			t.Errorf("%s is set in the manifest; use %s_FILE", secret, secret)
		}
	}
	if !strings.HasSuffix(env["CDNPROXY_SECRET_KEY_FILE"], "secret-key") {
		t.Error("the upstream key is not read from a file")
	}

	// The Service: the API port only.
	s := m.services["cdnproxy"]
	if s == nil {
		t.Fatal("no Service cdnproxy")
	}
	if len(s.Spec.Ports) == 0 {
		t.Error("the Service has no port")
	}
	for _, p := range s.Spec.Ports {
		if resolve(p.TargetPort) != ports["api"] || p.Port == ports["admin"] {
			t.Errorf("the Service exposes port %d -> %v; only the API port belongs there", p.Port, p.TargetPort.String())
		}
	}
	if !selects(s.Spec.Selector, labels) {
		t.Error("the Service does not select the proxy's pods")
	}

	if len(m.pdbs) != 1 || m.pdbs[0].Spec.Selector == nil || !selects(m.pdbs[0].Spec.Selector.MatchLabels, labels) {
		t.Error("no PodDisruptionBudget for the proxy's pods")
	}
	if len(m.hpas) != 1 {
		t.Fatal("no HorizontalPodAutoscaler")
	}
	if h := m.hpas[0]; h.Spec.ScaleTargetRef.Kind != "Deployment" || h.Spec.ScaleTargetRef.Name != d.Name ||
		h.Spec.MinReplicas == nil || *h.Spec.MinReplicas < 2 || h.Spec.MaxReplicas <= *h.Spec.MinReplicas {
		t.Errorf("the autoscaler = %+v; want it on the Deployment, never below 2 replicas", h.Spec)
	}

	// The network policy: the admin port only from chosen peers.
	np := m.policies["cdnproxy"]
	if np == nil || !selects(np.Spec.PodSelector.MatchLabels, labels) {
		t.Fatal("no NetworkPolicy for the proxy's pods")
	}
	adminOpen, apiOpen := false, false
	for _, rule := range np.Spec.Ingress {
		for _, p := range rule.Ports {
			if p.Port == nil {
				t.Errorf("an ingress rule opens every port")
				continue
			}
			switch resolve(*p.Port) {
			case ports["admin"]:
				adminOpen = true
				if len(rule.From) == 0 {
					t.Error("the admin port is open to every peer")
				}
				for _, peer := range rule.From {
					if peer.IPBlock != nil || peer.PodSelector == nil || len(peer.PodSelector.MatchLabels)+len(peer.PodSelector.MatchExpressions) == 0 {
						t.Errorf("the admin port is open to a broad peer: %+v", peer)
					}
				}
			case ports["api"]:
				apiOpen = true
			}
		}
	}
	if !adminOpen || !apiOpen {
		t.Errorf("the policy opens the API port: %v, the admin port to monitoring: %v; want both", apiOpen, adminOpen)
	}

	// Redis, for the shared limits, reachable only from the proxy.
	r := m.deployments["cdnproxy-redis"]
	if r == nil || m.services["cdnproxy-redis"] == nil {
		t.Fatal("no Redis Deployment and Service")
	}
	if rp := m.policies["cdnproxy-redis"]; rp == nil || !selects(rp.Spec.PodSelector.MatchLabels, r.Spec.Template.Labels) ||
		len(rp.Spec.Ingress) != 1 || len(rp.Spec.Ingress[0].From) != 1 || !selects(rp.Spec.Ingress[0].From[0].PodSelector.MatchLabels, labels) {
		t.Error("Redis is not kept to the proxy's pods")
	}
	// ... and the replicas count in it.
	if env["CDNPROXY_LIMITS"] != "on" {
		t.Errorf("CDNPROXY_LIMITS = %q, want on: the fleet shares one account's limits", env["CDNPROXY_LIMITS"])
	}
	rs := m.services["cdnproxy-redis"]
	u, err := url.Parse(env["CDNPROXY_REDIS_URL"])
	if err != nil || u.Scheme != "redis" || u.Hostname() != rs.Name || len(rs.Spec.Ports) != 1 || u.Port() != strconv.Itoa(int(rs.Spec.Ports[0].Port)) {
		t.Errorf("CDNPROXY_REDIS_URL = %q, want redis://%s:<its port>/0 (the Redis Service)", env["CDNPROXY_REDIS_URL"], rs.Name)
	}
}

// selects reports whether a selector's labels are all among labels.
func selects(selector, labels map[string]string) bool {
	if len(selector) == 0 {
		return false
	}
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}
