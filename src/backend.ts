/**
 * Chooses the TensorFlow.js backend: the fastest one that loads, in the order
 *   tensorflow (tfjs-node-gpu, CUDA) > tensorflow (tfjs-node, native CPU) > wasm > cpu.
 * Forced by argument, or by the environment variable MURPHY_BACKEND (one of "node-gpu", "node",
 * "wasm", "cpu"). The result says which backend was chosen and why each faster one was skipped,
 * so a run's log can record it.
 */
import * as tf from "@tensorflow/tfjs";

export const BACKEND_ORDER = ["node-gpu", "node", "wasm", "cpu"] as const;
export type BackendName = (typeof BACKEND_ORDER)[number];

export interface BackendChoice {
  /** The kit's name for the chosen backend. */
  name: BackendName;
  /** The name tf.getBackend() reports ("tensorflow", "wasm" or "cpu"). */
  tfName: string;
  /** Why each faster backend was not used, in order of preference. */
  skipped: { name: BackendName; reason: string }[];
  /** Set when the choice was forced, and by what. */
  forcedBy?: "argument" | "MURPHY_BACKEND";
}

let current: BackendChoice | undefined;

function firstLine(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  return text.split("\n")[0].slice(0, 200);
}

async function tryLoad(name: BackendName): Promise<string> {
  switch (name) {
    case "node-gpu":
    case "node": {
      const pkg = name === "node-gpu" ? "@tensorflow/tfjs-node-gpu" : "@tensorflow/tfjs-node";
      try {
        require(pkg);
      } catch (e) {
        throw new Error(`${pkg} is not installed or failed to load (${firstLine(e)})`);
      }
      if (!(await tf.setBackend("tensorflow"))) throw new Error(`${pkg} loaded but its backend did not initialise`);
      if (name === "node-gpu") {
        // tfjs-node-gpu falls back to the CPU silently when CUDA is missing; ask TensorFlow.
        const devices = (tf.backend() as unknown as { binding?: { isUsingGpuDevice?: () => boolean } }).binding;
        if (devices?.isUsingGpuDevice && !devices.isUsingGpuDevice()) {
          throw new Error("tfjs-node-gpu loaded but found no CUDA device");
        }
      }
      return "tensorflow";
    }
    case "wasm": {
      try {
        require("@tensorflow/tfjs-backend-wasm");
      } catch (e) {
        throw new Error(`@tensorflow/tfjs-backend-wasm failed to load (${firstLine(e)})`);
      }
      if (!(await tf.setBackend("wasm"))) throw new Error("the wasm backend did not initialise");
      return "wasm";
    }
    case "cpu":
      if (!(await tf.setBackend("cpu"))) throw new Error("the cpu backend did not initialise");
      return "cpu";
  }
}

/**
 * Select and initialise a backend. With `force` (or MURPHY_BACKEND) only that one is tried and a
 * failure is an error; otherwise the first that loads wins. Calling again returns the same choice
 * unless a different backend is forced.
 */
export async function selectBackend(force?: string): Promise<BackendChoice> {
  const fromEnv = process.env.MURPHY_BACKEND?.trim() || undefined;
  const wanted = force ?? fromEnv;
  if (wanted !== undefined && !(BACKEND_ORDER as readonly string[]).includes(wanted)) {
    const where = force !== undefined ? "backend argument" : "MURPHY_BACKEND";
    throw new Error(`${where} must be one of ${BACKEND_ORDER.join(", ")} (got "${wanted}")`);
  }
  if (current && (wanted === undefined || wanted === current.name)) return current;

  const skipped: BackendChoice["skipped"] = [];
  const candidates = wanted ? [wanted as BackendName] : BACKEND_ORDER;
  for (const name of candidates) {
    try {
      const tfName = await tryLoad(name);
      await tf.ready();
      current = { name, tfName, skipped };
      if (wanted) current.forcedBy = force !== undefined ? "argument" : "MURPHY_BACKEND";
      return current;
    } catch (e) {
      if (wanted) throw new Error(`backend "${name}" was requested but cannot be used: ${firstLine(e)}`);
      skipped.push({ name, reason: firstLine(e) });
    }
  }
  throw new Error(`no TensorFlow.js backend could be initialised: ${skipped.map((s) => `${s.name}: ${s.reason}`).join("; ")}`);
}

/** One line for logs: "backend wasm (skipped node-gpu: ..., node: ...)". */
export function describeBackend(choice: BackendChoice): string {
  const why = choice.skipped.map((s) => `${s.name}: ${s.reason}`).join("; ");
  const forced = choice.forcedBy ? `, forced by ${choice.forcedBy}` : "";
  return `backend ${choice.name}${forced}${why ? ` (skipped ${why})` : ""}`;
}
