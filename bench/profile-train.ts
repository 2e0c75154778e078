/**
 * Where the time of one training step goes: runs a workload of bench/workloads.ts a few times,
 * then times every kernel of further steps and prints kernel time summed by kernel name
 * (largest first), the number of kernel launches, and the time outside kernels (JS, autodiff
 * bookkeeping, data reads). Kernels are timed by wrapping each registered kernel function of the
 * current backend with a clock (tf.profile reads every output back, which triples a step's time
 * and hides where it goes). The clock is this process's CPU time (process.cpuUsage), which other
 * jobs on the machine disturb less than the wall clock (`--clock wall` for that).
 *
 *   node --import tsx bench/profile-train.ts [--workload reference|kit] [--steps 3] [--top 25] [--by-shape]
 *
 * The last line of stdout is one JSON object: {workload, clock, ms_per_step, kernel_ms, launches, top}.
 */
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../src/backend";
import { makeWorkload, type WorkloadName } from "./workloads";

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  let workloadName: WorkloadName = "reference";
  let steps = 5;
  let top = 25;
  let byShape = false;
  let clock: "cpu" | "wall" = "cpu";
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--workload") workloadName = argv[++i] as WorkloadName;
    else if (argv[i] === "--steps") steps = Number(argv[++i]);
    else if (argv[i] === "--top") top = Number(argv[++i]);
    else if (argv[i] === "--by-shape") byShape = true;
    else if (argv[i] === "--clock") clock = argv[++i] === "wall" ? "wall" : "cpu";
    else throw new Error(`bench/profile-train.ts: unknown argument "${argv[i]}" (expected --workload reference|kit, --steps N, --top N, --by-shape, --clock cpu|wall)`);
  }
  if (workloadName !== "reference" && workloadName !== "kit") throw new Error(`bench/profile-train.ts: --workload must be reference or kit (got ${workloadName})`);
  const backend = await selectBackend();
  const workload = makeWorkload(workloadName);
  for (let i = 0; i < 2; i++) workload.step();
  const now = clock === "wall" ? () => performance.now() : () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  const totals = new Map<string, { ms: number; launches: number }>();
  let launches = 0;
  let depth = 0;
  for (const kernel of tf.getKernelsForBackend(tf.getBackend())) {
    const inner = kernel.kernelFunc;
    tf.unregisterKernel(kernel.kernelName, kernel.backendName);
    tf.registerKernel({
      ...kernel,
      kernelFunc: (args) => {
        // Count a kernel that calls another kernel once, as the outer one.
        if (depth > 0) return inner(args);
        depth++;
        const started = now();
        try {
          return inner(args);
        } finally {
          depth--;
          const key = byShape ? `${kernel.kernelName} ${JSON.stringify(Object.values(args.inputs).map((t) => (t as tf.TensorInfo).shape))}` : kernel.kernelName;
          const entry = totals.get(key) ?? { ms: 0, launches: 0 };
          entry.ms += now() - started;
          entry.launches++;
          totals.set(key, entry);
          launches++;
        }
      },
    });
  }
  const started = now();
  for (let s = 0; s < steps; s++) workload.step();
  const wall = now() - started;
  const kernelMs = [...totals.values()].reduce((a, e) => a + e.ms, 0) / steps;
  const rows = [...totals.entries()].map(([name, e]) => ({ name, ms: e.ms / steps, launches: e.launches / steps })).sort((a, b) => b.ms - a.ms);
  console.log(`backend ${backend.tfName}; workload ${workloadName}; ${steps} profiled steps; micro-batches ${JSON.stringify(workload.microBatches)}`);
  console.log(`${clock} ${(wall / steps).toFixed(1)} ms/step, kernels ${kernelMs.toFixed(1)} ms, launches ${(launches / steps).toFixed(0)}`);
  for (const r of rows.slice(0, top)) console.log(`${r.ms.toFixed(2).padStart(9)} ms ${((100 * r.ms) / kernelMs).toFixed(1).padStart(5)}% ${String(r.launches).padStart(6)}x  ${r.name}`);
  workload.dispose();
  const round = (x: number) => Math.round(x * 100) / 100;
  console.log(JSON.stringify({ workload: workloadName, clock, ms_per_step: round(wall / steps), kernel_ms: round(kernelMs), launches: launches / steps, top: rows.slice(0, top).map((r) => ({ ...r, ms: round(r.ms) })) }));
}

main().catch((e) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(1);
});
