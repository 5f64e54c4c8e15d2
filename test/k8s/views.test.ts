import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parseManifests } from "../../src/k8s/load.js";
import type { K8sObject } from "../../src/k8s/object.js";
import { type DeploymentView, type NamespaceView, deploymentView, isMeshed, meshedDecision, namespaceView, serviceView } from "../../src/k8s/views.js";

const fixtures = join(dirname(fileURLToPath(import.meta.url)), "..", "fixtures", "k8s");
const S = 1_000_000;

function load(text: string): K8sObject[] {
  const { objects, errors } = parseManifests(text, "t.yaml");
  expect(errors).toEqual([]);
  return objects;
}
const one = (text: string): K8sObject => load(text)[0] as K8sObject;
const deployment = (spec: string): K8sObject => one(`apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d, namespace: ns}\nspec:\n${spec}`);
const service = (spec: string): K8sObject => one(`apiVersion: v1\nkind: Service\nmetadata: {name: s, namespace: ns}\nspec:\n${spec}`);

describe("deploymentView", () => {
  const [, auth] = load(readFileSync(join(fixtures, "payments.yaml"), "utf8"));

  it("reads what the simulator runs: replicas, selector, template, service account, first container", () => {
    const { value, errors } = deploymentView(auth as K8sObject);
    expect(errors).toEqual([]);
    expect(value).toMatchObject({
      name: "auth", namespace: "payments", replicas: 3, selector: { app: "auth" }, templateLabels: { app: "auth" },
      serviceAccountName: "auth", containerName: "auth", ports: [{ name: "http", containerPort: 8080, protocol: "TCP" }],
    });
    expect(value.inject).toBeUndefined();
  });

  it("fills the readiness probe's unset fields with Kubernetes' defaults and resolves a named port", () => {
    expect(deploymentView(auth as K8sObject).value.readinessProbe).toEqual({
      handler: "httpGet", initialDelayUs: 0, periodUs: 2 * S, timeoutUs: 1 * S, successThreshold: 1, failureThreshold: 2,
      httpGet: { path: "/ready", port: 8080 },
    });
  });

  it("an empty Deployment gets replicas 1, service account default and no probe", () => {
    const { value, errors } = deploymentView(deployment("  selector: {matchLabels: {app: d}}\n"));
    expect(errors).toEqual([]);
    expect(value).toMatchObject({ replicas: 1, serviceAccountName: "default", containerName: "", ports: [] });
    expect(value.readinessProbe).toBeUndefined();
  });

  it("probe fields written as 0 take their defaults, as Kubernetes defaulting does", () => {
    const d = deployment(`  template:\n    spec:\n      containers:\n        - name: c\n          readinessProbe:\n            tcpSocket: {port: 80}\n            initialDelaySeconds: 5\n            periodSeconds: 0\n            timeoutSeconds: 0\n            successThreshold: 0\n            failureThreshold: 0\n`);
    expect(deploymentView(d).value.readinessProbe).toEqual({
      handler: "tcpSocket", initialDelayUs: 5 * S, periodUs: 10 * S, timeoutUs: 1 * S, successThreshold: 1, failureThreshold: 3,
    });
  });

  it("an httpGet probe without a path probes /", () => {
    const d = deployment(`  template:\n    spec:\n      containers:\n        - name: c\n          readinessProbe:\n            httpGet: {port: 9000}\n`);
    expect(deploymentView(d).value.readinessProbe?.httpGet).toEqual({ path: "/", port: 9000 });
  });

  it("skips a linkerd-proxy container added by manual injection", () => {
    const d = deployment(`  template:\n    spec:\n      containers:\n        - name: linkerd-proxy\n        - name: app\n          ports: [{containerPort: 8080}]\n`);
    expect(deploymentView(d).value).toMatchObject({ containerName: "app", ports: [{ containerPort: 8080 }] });
  });

  it("reads the inject annotation on the pod template", () => {
    const d = deployment(`  template:\n    metadata:\n      annotations: {linkerd.io/inject: disabled}\n`);
    expect(deploymentView(d).value.inject).toBe("disabled");
  });

  it.each([
    ["replicas: \"three\"", "  replicas: three\n", "spec.replicas", 5, 13, /replicas is the string "three"/],
    ["a negative replicas", "  replicas: -1\n", "spec.replicas", 5, 13, /replicas is the number -1/],
    ["a numeric label", "  template:\n    metadata:\n      labels: {version: 2}\n", "spec.template.metadata.labels.version", 7, 25, /not a string/],
    ["a probe port no container port names", "  template:\n    spec:\n      containers:\n        - name: c\n          readinessProbe:\n            httpGet: {port: admin}\n", "spec.template.spec.containers[0].readinessProbe.httpGet.port", 10, 29, /names no port/],
    ["containers that are not a list", "  template:\n    spec:\n      containers: {name: c}\n", "spec.template.spec.containers", 7, 7, /not a list/],
  ])("%s is an error at the field, and the default is used", (_case, spec, path, line, col, message) => {
    const { value, errors } = deploymentView(deployment(spec));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ file: "t.yaml", path, line, col });
    expect(errors[0]?.message).toMatch(message);
    expect(errors[0]?.message).toMatch(/^Deployment ns\/d: /);
    expect(value.replicas).toBe(1);
  });

  it("ignores status, managedFields and fields it does not read", () => {
    const objects = load(readFileSync(join(fixtures, "kubectl-get-list.yaml"), "utf8"));
    const { value, errors } = deploymentView(objects[1] as K8sObject);
    expect(errors).toEqual([]);
    expect(value).toMatchObject({ name: "web", replicas: 2, inject: "enabled" });
  });
});

describe("serviceView", () => {
  it("reads selector, ports with targetPort defaulting to port, protocol TCP, type ClusterIP", () => {
    const s = service("  selector: {app: web}\n  ports:\n    - {name: http, port: 80, targetPort: http}\n    - {name: admin, port: 9990, targetPort: 9991}\n    - {port: 8080}\n");
    const { value, errors } = serviceView(s);
    expect(errors).toEqual([]);
    expect(value).toMatchObject({ name: "s", namespace: "ns", selector: { app: "web" }, type: "ClusterIP", headless: false });
    expect(value.ports).toEqual([
      { name: "http", port: 80, targetPort: "http", protocol: "TCP" },
      { name: "admin", port: 9990, targetPort: 9991, protocol: "TCP" },
      { port: 8080, targetPort: 8080, protocol: "TCP" },
    ]);
  });

  it("clusterIP None is headless; no selector stays undefined (Endpoints managed elsewhere)", () => {
    const { value } = serviceView(service("  clusterIP: None\n  ports: [{port: 80}]\n"));
    expect(value.headless).toBe(true);
    expect(value.selector).toBeUndefined();
  });

  it("keeps labels and annotations, so mirror labels and Linkerd annotations can be read", () => {
    const s = one("apiVersion: v1\nkind: Service\nmetadata:\n  name: s\n  labels: {mirror.linkerd.io/exported: \"true\"}\n  annotations: {retry.linkerd.io/http: 5xx}\nspec: {}\n");
    expect(serviceView(s).value).toMatchObject({ labels: { "mirror.linkerd.io/exported": "true" }, annotations: { "retry.linkerd.io/http": "5xx" }, namespace: "default" });
  });

  it.each([
    ["a port that is text", "  ports:\n    - port: eighty\n", "spec.ports[0].port", /port is the string "eighty"/],
    ["a port out of range", "  ports:\n    - port: 70000\n", "spec.ports[0].port", /port is the number 70000/],
    ["a port without a number", "  ports:\n    - name: http\n", "spec.ports[0].port", /no port number/],
    ["a quoted numeric targetPort", "  ports:\n    - {port: 80, targetPort: \"8080\"}\n", "spec.ports[0].targetPort", /port name, and a name needs a letter/],
    ["an unquoted boolean selector value", "  selector: {enabled: yes}\n", "spec.selector.enabled", /boolean true/],
  ])("%s is an error at the field", (_case, spec, path, message) => {
    const { errors } = serviceView(service(spec));
    expect(errors.map((e) => e.path)).toEqual([path]);
    expect(errors[0]?.message).toMatch(message);
  });
});

describe("isMeshed", () => {
  const view = (inject?: string): DeploymentView => ({
    kind: "Deployment", name: "d", namespace: "ns", replicas: 1, selector: {}, templateLabels: {}, templateAnnotations: {}, proxyInjected: false, serviceAccountName: "default", containerName: "c", ports: [],
    ...(inject === undefined ? {} : { inject }),
  });
  const ns = (inject?: string): NamespaceView => ({ name: "ns", labels: {}, annotations: {}, ...(inject === undefined ? {} : { inject }) });

  it.each([
    ["enabled on the template", "enabled", undefined, true],
    ["enabled on the namespace", undefined, ns("enabled"), true],
    ["disabled on the template, enabled on the namespace", "disabled", ns("enabled"), false],
    ["enabled on the template, disabled on the namespace", "enabled", ns("disabled"), true],
    ["ingress mode on the template", "ingress", undefined, true],
    ["an unknown value on the template, enabled on the namespace", "true", ns("enabled"), false],
    ["nothing anywhere", undefined, ns(), false],
    ["no Namespace object at all", undefined, undefined, false],
  ] as const)("%s ⇒ meshed %s", (_case, template, namespace, meshed) => {
    expect(isMeshed(view(template), namespace)).toBe(meshed);
    expect(meshedDecision(view(template), namespace).reason).toContain("linkerd.io/inject");
  });

  it("reads the namespace's annotation through namespaceView", () => {
    const nsObj = one("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ns\n  annotations: {linkerd.io/inject: enabled}\n");
    expect(isMeshed(view(), namespaceView(nsObj).value)).toBe(true);
  });
});
