// Validates every manifest in this directory against the Kubernetes API
// schema, offline (kubernetes-models: each object validates itself), and
// checks what qbench needs of them: an Indexed Job whose shard count is the
// QBENCH_SHARDS it passes, a config from a ConfigMap, results on stdout.
// Run: npm ci && node validate.mjs      (CI does; exit 1 on any problem)
import { readFileSync, readdirSync } from "node:fs";
import { parseAllDocuments } from "yaml";
import { Job } from "kubernetes-models/batch/v1";
import { ConfigMap, Service, Pod } from "kubernetes-models/v1";
import { Deployment } from "kubernetes-models/apps/v1";

const kinds = { Job, ConfigMap, Service, Pod, Deployment };
let failures = 0, checked = 0;
const fail = (file, msg) => { console.error(`${file}: ${msg}`); failures++; };

for (const file of readdirSync(".").filter((f) => f.endsWith(".yaml")).sort()) {
  // ${VAR} placeholders are filled by envsubst at apply time: give them
  // values of the right shape for validation
  const text = readFileSync(file, "utf8")
    .replaceAll("${SHARDS}", "4")
    .replaceAll("${START_AT}", "2026-11-26T12:00:00Z")
    .replaceAll("${IMAGE}", "registry.example/qbench:0.1.0")
    .replaceAll("${OBSERVE_MS}", "60000");
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length) { fail(file, doc.errors[0].message); continue; }
    const obj = doc.toJS();
    if (!obj) continue;
    const Kind = kinds[obj.kind];
    if (!Kind) { fail(file, `unexpected kind ${obj.kind}`); continue; }
    try {
      new Kind(obj).validate();
    } catch (e) {
      fail(file, `${obj.kind} ${obj.metadata?.name}: ${e.message}`);
      continue;
    }
    checked++;
    if (obj.kind === "Job") {
      const spec = obj.spec, c = spec.template.spec.containers[0];
      const env = Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value]));
      if (spec.completionMode !== "Indexed") fail(file, "the Job must be Indexed");
      if (String(spec.completions) !== env.QBENCH_SHARDS)
        fail(file, `completions ${spec.completions} but QBENCH_SHARDS ${env.QBENCH_SHARDS}`);
      if (!c.args.includes("--output") || c.args[c.args.indexOf("--output") + 1] !== "-")
        fail(file, "shards write their results to stdout (--output -)");
      if (!(spec.template.spec.volumes ?? []).some((v) => v.configMap))
        fail(file, "the config comes from a ConfigMap volume");
      // hardened: not root, no escalation, no capability, seccomp on
      const pod = spec.template.spec.securityContext ?? {}, sc = c.securityContext ?? {};
      if (pod.runAsNonRoot !== true || !(pod.runAsUser > 0))
        fail(file, "the pod must run as a non-root UID (runAsNonRoot, runAsUser)");
      if (sc.allowPrivilegeEscalation !== false)
        fail(file, "the container must set allowPrivilegeEscalation: false");
      if (!(sc.capabilities?.drop ?? []).includes("ALL"))
        fail(file, "the container must drop ALL capabilities");
      if ((pod.seccompProfile ?? sc.seccompProfile)?.type !== "RuntimeDefault")
        fail(file, "seccompProfile must be RuntimeDefault");
      if (!c.command?.join(" ").includes("2>>/dev/termination-log"))
        fail(file, "qbench's stderr must not reach the log that collect.sh merges");
    }
    if (obj.kind === "Deployment") {
      // the server's side: a qbench observe sidecar in the server's pod (its
      // network namespace), on a port the server listens on, unprivileged,
      // its document in a volume collect.sh reads
      const spec = obj.spec.template.spec, cs = spec.containers;
      const obs = cs.find((c) => (c.command ?? []).join(" ").includes("qbench observe"));
      if (!obs) fail(file, "the target pod needs a qbench observe sidecar");
      else {
        const cmd = obs.command.join(" ");
        const port = Number(cmd.match(/--port (\d+)/)?.[1]);
        const ports = cs.flatMap((c) => (c.ports ?? []).map((p) => p.containerPort));
        if (!ports.includes(port))
          fail(file, `the observer watches port ${port}, which no container of the pod serves`);
        for (const opt of ["--start-at", "--duration-ms", "-o /var/run/qbench/observer.json"])
          if (!cmd.includes(opt)) fail(file, `the observer needs ${opt}`);
        if (spec.hostNetwork) fail(file, "the observer must share the pod's namespace, not the host's");
        const sc = obs.securityContext ?? {};
        if (sc.runAsNonRoot !== true || sc.allowPrivilegeEscalation !== false ||
            !(sc.capabilities?.drop ?? []).includes("ALL") || (sc.capabilities?.add ?? []).length)
          fail(file, "the observer needs no privilege: non-root, no escalation, drop ALL");
        if (!(obs.volumeMounts ?? []).some((m) => m.mountPath === "/var/run/qbench"))
          fail(file, "the observer writes its document to a volume at /var/run/qbench");
      }
    }
    if (obj.kind === "Service" && obj.spec.clusterIP && obj.spec.clusterIP !== "None")
      fail(file, `Service ${obj.metadata.name}: no hard-coded clusterIP (${obj.spec.clusterIP})`);
    if (obj.kind === "ConfigMap") {
      const cfg = JSON.parse(obj.data["config.json"]);
      if (cfg.isolate !== false)
        fail(file, "the shards' config needs isolate: false (the pods are not privileged)");
    }
  }
}
// the image runs as a numeric non-root user
const docker = readFileSync("Dockerfile", "utf8");
const user = [...docker.matchAll(/^USER\s+(\S+)/gm)].pop()?.[1];
if (!user || !/^[1-9][0-9]*(:[0-9]+)?$/.test(user))
  fail("Dockerfile", "the image must end with USER <numeric non-root uid>");
console.log(`${checked} objects valid against the Kubernetes API schema, ${failures} problems`);
process.exit(failures ? 1 : 0);
