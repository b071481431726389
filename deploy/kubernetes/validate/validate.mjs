// Validates rendered Kubernetes manifests offline, in three passes:
//  1. each object against its Kubernetes (or prometheus-operator) schema,
//     with kubernetes-models: types, required fields, formats;
//  2. unknown fields, which those schemas let through: every object is
//     type-checked as a TypeScript literal of its interface, whose excess
//     property check names any field the API does not have; plus the enums
//     the schemas type as plain strings;
//  3. cachecar's own rules for its sidecar (docs/kubernetes.md): native
//     sidecar, probes on the probe port, the config mounted as a directory,
//     the memory tier inside the memory limit, shutdown timing.
//
//   node validate.mjs FILE...                  every object must pass
//   node validate.mjs --expect-invalid FILE... every object annotated
//                                              validate.cachecar/expect: TEXT
//                                              must fail with a problem naming
//                                              TEXT; the others must pass
//                                              (a test of the validator)
import { readFileSync, writeFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import yaml from "js-yaml";
import ts from "typescript";

const require = createRequire(import.meta.url);
const here = dirname(fileURLToPath(import.meta.url));

const MODEL_PACKAGES = {
  "v1": "kubernetes-models/v1",
  "apps/v1": "kubernetes-models/apps/v1",
  "policy/v1": "kubernetes-models/policy/v1",
  "monitoring.coreos.com/v1": "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1",
};

function modelPath(object) {
  const pkg = MODEL_PACKAGES[object.apiVersion];
  return pkg ? `${pkg}/${object.kind}` : null;
}

function describe(object) {
  return `${object?.kind ?? "?"}/${object?.metadata?.name ?? "?"}`;
}

// Pass 1: the schemas.
function schemaProblems(object) {
  const path = modelPath(object);
  if (!path) return [`no schema known for apiVersion ${object.apiVersion}`];
  let Model;
  try {
    Model = require(path)[object.kind];
  } catch {
    return [`no schema known for ${object.apiVersion} ${object.kind}`];
  }
  if (!Model) return [`no schema known for ${object.apiVersion} ${object.kind}`];
  try {
    new Model(object).validate();
    return [];
  } catch (error) {
    const details = error.errors?.map((e) => `${e.instancePath || "/"} ${e.message}`) ?? [error.message];
    return details.map((d) => `schema: ${d}`);
  }
}

// Pass 2a: unknown fields, by TypeScript's excess property checks on one
// literal per object. Returns problems by object index.
function unknownFieldProblems(objects) {
  const problems = objects.map(() => []);
  let text = "";
  const starts = [];  // [object index, first line] in the order written
  objects.forEach((object, index) => {
    const path = modelPath(object);
    if (!path) return;
    starts.push({ index, line: text.split("\n").length - 1 });
    text += `import type { I${object.kind} as T${index} } from ${JSON.stringify(path)};\n`;
    text += `export const object${index}: T${index} = ${JSON.stringify(object, null, 1)};\n`;
  });
  const file = join(here, `.check-${process.pid}.ts`);
  writeFileSync(file, text);
  try {
    const program = ts.createProgram([file], {
      noEmit: true,
      strict: true,
      module: ts.ModuleKind.CommonJS,
      moduleResolution: ts.ModuleResolutionKind.Node10,
      types: [],
      skipLibCheck: true,
    });
    for (const d of ts.getPreEmitDiagnostics(program)) {
      const message = ts.flattenDiagnosticMessageText(d.messageText, " ");
      if (!d.file) {
        problems.forEach((p) => p.push(`typescript: ${message}`));
        continue;
      }
      const { line } = d.file.getLineAndCharacterOfPosition(d.start ?? 0);
      const owner = starts.filter((s) => line >= s.line).pop();
      const near = d.file.text.split("\n")[line]?.trim();
      (owner ? problems[owner.index] : problems[0]).push(`field: ${message} (at ${near})`);
    }
  } finally {
    rmSync(file, { force: true });
  }
  return problems;
}

// Pass 2b: enums that the schemas type as strings.
const ENUMS = {
  imagePullPolicy: ["Always", "IfNotPresent", "Never"],
  protocol: ["TCP", "UDP", "SCTP"],
  scheme: ["HTTP", "HTTPS"],
};

function podSpecOf(object) {
  return object.kind === "Deployment" ? object.spec?.template?.spec : null;
}

function enumProblems(object) {
  const problems = [];
  const walk = (node, path) => {
    if (Array.isArray(node)) return node.forEach((item, i) => walk(item, `${path}[${i}]`));
    if (!node || typeof node !== "object") return;
    for (const [key, value] of Object.entries(node)) {
      if (ENUMS[key] && typeof value === "string" && !ENUMS[key].includes(value)) {
        problems.push(`enum: ${path}.${key} is '${value}', not one of ${ENUMS[key].join(", ")}`);
      }
      walk(value, `${path}.${key}`);
    }
  };
  walk(object, "");
  const pod = podSpecOf(object);
  for (const [i, c] of (pod?.initContainers ?? []).entries()) {
    if (c.restartPolicy !== undefined && c.restartPolicy !== "Always") {
      problems.push(`enum: initContainers[${i}].restartPolicy is '${c.restartPolicy}'; only Always is allowed`);
    }
  }
  for (const [i, c] of (pod?.containers ?? []).entries()) {
    if (c.restartPolicy !== undefined) problems.push(`enum: containers[${i}].restartPolicy is for init containers only`);
  }
  if (object.kind === "Service" && object.spec?.type &&
      !["ClusterIP", "NodePort", "LoadBalancer", "ExternalName"].includes(object.spec.type)) {
    problems.push(`enum: spec.type is '${object.spec.type}'`);
  }
  if (object.kind === "Deployment" && object.spec?.strategy?.type &&
      !["RollingUpdate", "Recreate"].includes(object.spec.strategy.type)) {
    problems.push(`enum: spec.strategy.type is '${object.spec.strategy.type}'`);
  }
  return problems;
}

// Pass 3: cachecar's sidecar, checked against the config the pod mounts.
const UNITS = { ms: 1, s: 1000, m: 60000, h: 3600000 };
function millis(text) {
  const m = /^([0-9.]+)(ms|s|m|h)$/.exec(String(text ?? ""));
  return m ? Number(m[1]) * UNITS[m[2]] : String(text) === "0" ? 0 : null;
}
const SIZES = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, k: 1e3, M: 1e6, G: 1e9 };
function bytes(text) {
  const m = /^([0-9.]+)([A-Za-z]*)$/.exec(String(text ?? ""));
  if (!m) return null;
  return m[2] === "" ? Number(m[1]) : SIZES[m[2]] ? Number(m[1]) * SIZES[m[2]] : null;
}

function sidecarProblems(object, objects) {
  const pod = podSpecOf(object);
  if (!pod) return [];
  const problems = [];
  const inMain = (pod.containers ?? []).find((c) => c.name === "cachecar");
  if (inMain) problems.push("cachecar: in containers; run it as a native sidecar (initContainers, restartPolicy: Always)");
  const sidecar = (pod.initContainers ?? []).find((c) => c.name === "cachecar");
  if (!sidecar) return problems;
  if (sidecar.restartPolicy !== "Always") problems.push("cachecar: a sidecar init container needs restartPolicy: Always");

  const mount = (sidecar.volumeMounts ?? []).find((m) => m.mountPath === "/etc/cachecar");
  if (!mount) problems.push("cachecar: no volume mounted at /etc/cachecar");
  if (mount?.subPath) problems.push("cachecar: the config is mounted with subPath; reloads never see a subPath update");
  const volume = (pod.volumes ?? []).find((v) => v.name === mount?.name);
  const configMap = objects.find((o) => o.kind === "ConfigMap" && o.metadata?.name === volume?.configMap?.name);
  const configText = configMap?.data?.["cachecar.yaml"];
  if (!configText) {
    problems.push("cachecar: its config volume does not name a rendered ConfigMap with cachecar.yaml");
    return problems;
  }
  const config = yaml.load(configText) ?? {};

  const probePort = (sidecar.ports ?? []).find((p) => p.name === "probes");
  const health = String(config.health?.listen ?? "");
  if (!health.startsWith("0.0.0.0:") && !health.startsWith("[::]:")) {
    problems.push(`cachecar: health.listen is '${health}'; kubelet connects to the pod IP, so bind 0.0.0.0`);
  } else if (!probePort || String(probePort.containerPort) !== health.split(":").pop()) {
    problems.push(`cachecar: the container port named probes is not health.listen's port (${health})`);
  }
  const expect = { startupProbe: "/healthz", livenessProbe: "/healthz", readinessProbe: "/readyz" };
  for (const [probe, path] of Object.entries(expect)) {
    const get = sidecar[probe]?.httpGet;
    if (!get) problems.push(`cachecar: no ${probe}`);
    else if (get.path !== path || get.port !== "probes") {
      problems.push(`cachecar: ${probe} must GET ${path} on the probes port (has ${get.path} on ${get.port})`);
    }
  }

  // Sizing rule: limit >= 1.15 x store.memory.max_bytes + 64 MiB.
  const maxBytes = bytes(config.store?.memory?.max_bytes ?? "256MiB");
  const limit = bytes(sidecar.resources?.limits?.memory);
  if (limit === null) problems.push("cachecar: no memory limit");
  else if (maxBytes !== null && limit < 1.15 * maxBytes + 64 * 1024 ** 2) {
    problems.push(`cachecar: memory limit ${sidecar.resources.limits.memory} is under 1.15 x store.memory.max_bytes + 64Mi`);
  }

  // Shutdown: the app's preStop and own shutdown, then cachecar's drain.
  const drain = millis(config.drain_delay ?? "5s") ?? 0;
  const grace = millis(config.shutdown_grace ?? "10s") ?? 0;
  const appSleep = Math.max(0, ...(pod.containers ?? []).map((c) => (c.lifecycle?.preStop?.sleep?.seconds ?? 0) * 1000));
  const needed = (appSleep + drain + grace) / 1000;
  if ((pod.terminationGracePeriodSeconds ?? 30) < needed) {
    problems.push(`cachecar: terminationGracePeriodSeconds ${pod.terminationGracePeriodSeconds ?? 30} is under ` +
                  `the app's preStop + drain_delay + shutdown_grace (${needed} s)`);
  }
  if (appSleep < drain) {
    problems.push(`cachecar: the app's preStop sleep (${appSleep / 1000} s) is shorter than drain_delay; ` +
                  "the app would stop while endpoints still send traffic");
  }
  return problems;
}

function main() {
  const args = process.argv.slice(2);
  const expectInvalid = args[0] === "--expect-invalid";
  const files = expectInvalid ? args.slice(1) : args;
  if (files.length === 0) {
    console.error("usage: node validate.mjs [--expect-invalid] FILE...");
    process.exit(2);
  }
  let failures = 0;
  for (const file of files) {
    const objects = yaml.loadAll(readFileSync(file, "utf8")).filter((o) => o);
    const fields = unknownFieldProblems(objects);
    objects.forEach((object, index) => {
      const problems = [...schemaProblems(object), ...fields[index], ...enumProblems(object),
                        ...sidecarProblems(object, objects)];
      const name = `${file}: ${describe(object)}`;
      const reason = object.metadata?.annotations?.["validate.cachecar/expect"];
      if (expectInvalid && reason !== undefined) {
        const matched = problems.some((p) => p.includes(reason));
        if (!matched) {
          failures++;
          console.log(`NOT REJECTED ${name}: expected a problem containing '${reason}'; got ${JSON.stringify(problems)}`);
        } else {
          console.log(`rejected as expected ${name}: ${problems.find((p) => p.includes(reason))}`);
        }
      } else if (problems.length > 0) {
        // Without the annotation, an object must pass in either mode.
        failures++;
        for (const p of problems) console.log(`${name}: ${p}`);
      }
    });
    if (!expectInvalid) console.log(`${file}: ${objects.length} objects checked`);
  }
  process.exit(failures === 0 ? 0 : 1);
}

main();
