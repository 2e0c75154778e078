import { test } from "node:test";
import assert from "node:assert/strict";
import type { CellResult } from "../src/experiments/cell-result";
import { parseSpec } from "../src/experiments/spec";
import { cellRows, comparisonRows, comparisonSummaries, computeComparisonRows, computeComparisons, methodRows, methodSummaries, orderCells, sampledTokensMismatches, toCsv, type MethodSummary } from "../src/experiments/summary";

const spec = parseSpec(
  {
    name: "demo",
    seeds: [0, 1, 2],
    methods: [{ name: "base" }, { name: "grpo", config: "configs/grpo.json" }, { name: "mars", config: "configs/murphy-mars.json" }],
    eval: { turns: 2 },
    comparisons: [{ method: "mars", baseline: "grpo" }],
  },
  "demo.json",
);

function cell(method: string, seed: number, iterPass1: number[], tokensSampled = 0, tokensTrained = 0, steps = 0): CellResult {
  // Forwarded with gradient: prompts too, here 3x the trained completions; without: 1x (e.g. a reference).
  return {
    experiment: "demo", cell: `${method}-s${seed}`, method, seed, iterPass1, evalTasks: 20, eval: spec.eval, steps, tokensSampled, tokensTrained,
    tokensForwardedGrad: 3 * tokensTrained, tokensForwardedNoGrad: tokensTrained, trainSeconds: 0, evalSeconds: 1, wallSeconds: 60, backend: "wasm", gitCommit: "abc", gitDirty: false, sourceTree: "tree",
    configHash: "h", baseCheckpointHash: "b", tasksHash: "t", config: null, finishedAt: "2026-01-01T00:00:00Z",
  };
}

// Hand-made Iter-1, Iter-2 pass@1 per seed.
const cells: CellResult[] = [
  cell("mars", 2, [0.2, 0.35], 1200, 600, 4),
  cell("base", 0, [0.1, 0.15]),
  cell("base", 1, [0.2, 0.2]),
  cell("base", 2, [0.0, 0.1]),
  cell("grpo", 0, [0.2, 0.25], 1000, 1000, 4),
  cell("grpo", 1, [0.3, 0.35], 1000, 1000, 4),
  cell("grpo", 2, [0.1, 0.15], 1000, 1000, 4),
  cell("mars", 0, [0.25, 0.4], 1200, 600, 4),
  cell("mars", 1, [0.3, 0.45], 1200, 600, 4),
];
const T2 = 4.302652729911275; // t(0.975, 2)
const close = (a: number, b: number, what: string, tol = 1e-12) => assert.ok(Math.abs(a - b) <= tol, `${what}: got ${a}, expected ${b}`);

test("cells are ordered by the spec's methods, then by seed", () => {
  assert.deepEqual(orderCells(spec, cells).map((c) => c.cell), ["base-s0", "base-s1", "base-s2", "grpo-s0", "grpo-s1", "grpo-s2", "mars-s0", "mars-s1", "mars-s2"]);
  const rows = cellRows(spec, cells);
  assert.deepEqual(Object.keys(rows[0]).slice(0, 6), ["method", "seed", "cell", "iter1_pass1", "iter2_pass1", "eval_tasks"]);
  assert.equal(rows[6].trained_tokens_per_step, 150);
  assert.equal(rows[0].sampled_tokens_per_step, 0); // base: no steps
});

test("per-method means and 95% t-intervals over seeds, by hand", () => {
  const [base, grpo, mars] = methodSummaries(spec, cells);
  assert.deepEqual([base.method, grpo.method, mars.method], ["base", "grpo", "mars"]);
  // grpo Iter-1: 0.2, 0.3, 0.1 -> mean 0.2, s 0.1, half t2 * 0.1 / sqrt 3
  close(grpo.iter[0].mean, 0.2, "grpo mean");
  close(grpo.iter[0].halfWidth, (T2 * 0.1) / Math.sqrt(3), "grpo half", 1e-9);
  close(grpo.iter[0].halfWidth, 0.248414, "grpo half printed", 1e-6);
  // mars Iter-2: 0.40, 0.45, 0.35 -> mean 0.40, s 0.05
  close(mars.iter[1].mean, 0.4, "mars mean");
  close(mars.iter[1].halfWidth, (T2 * 0.05) / Math.sqrt(3), "mars half", 1e-9);
  // Gain over base, paired: Iter-2 mars - base = 0.25 at every seed -> zero width.
  close(mars.gainOverBase![1].mean, 0.25, "mars gain");
  close(mars.gainOverBase![1].halfWidth, 0, "mars gain half");
  // Iter-1 grpo - base: 0.1, 0.1, 0.1.
  close(grpo.gainOverBase![0].mean, 0.1, "grpo gain");
  assert.equal(base.gainOverBase, undefined);
  assert.equal(mars.tokensSampledPerStep, 300);
  assert.equal(mars.tokensTrainedPerStep, 150);
  assert.equal(grpo.tokensTrainedPerStep, 250);
});

test("comparisons are paired by seed and use only common seeds", () => {
  const [c] = comparisonSummaries(spec, cells);
  // mars - grpo at Iter-1: 0.05, 0.00, 0.10 -> mean 0.05, s 0.05
  close(c.difference[0].mean, 0.05, "diff mean");
  close(c.difference[0].halfWidth, (T2 * 0.05) / Math.sqrt(3), "diff half", 1e-9);
  const partial = comparisonSummaries(spec, cells.filter((x) => x.cell !== "mars-s2"));
  assert.deepEqual(partial[0].seeds, [0, 1]);
  // Seeds 0, 1 at Iter-2: 0.15, 0.10 -> mean 0.125, s = 0.05 / sqrt 2, half = 12.7062 * s / sqrt 2 = 12.7062 * 0.025
  close(partial[0].difference[1].mean, 0.125, "partial mean");
  close(partial[0].difference[1].halfWidth, Math.tan(Math.PI * 0.475) * 0.025, "partial half", 1e-9);
  const rows = comparisonRows(comparisonSummaries(spec, cells));
  assert.deepEqual(rows.map((r) => [r.method, r.baseline, r.iter, r.n_seeds]), [["mars", "grpo", 1, 3], ["mars", "grpo", 2, 3]]);
});

test("summary-methods rows: one seed has no interval (empty CSV cells), base has no gain", () => {
  const one = methodRows(methodSummaries(spec, cells.filter((c) => c.seed === 0)));
  const csv = toCsv(one).split("\n");
  const header = csv[0].split(",");
  const base = Object.fromEntries(header.map((h, i) => [h, csv[1].split(",")[i]]));
  const mars = Object.fromEntries(header.map((h, i) => [h, csv[3].split(",")[i]]));
  assert.equal(base.iter1_pass1_mean, "0.1");
  assert.equal(base.iter1_pass1_ci_low, "");
  assert.equal(base.iter2_gain_over_base_mean, "");
  assert.equal(mars.iter2_gain_over_base_mean, "0.25");
  assert.equal(mars.n_seeds, "1");
});

test("CSV: union of columns, quoting, six decimals, empty for missing and non-finite", () => {
  const text = toCsv([{ a: "x,y", b: 1.23456789, c: null }, { a: 'say "hi"', b: NaN, d: true }]);
  assert.equal(text, 'a,b,c,d\n"x,y",1.234568,,\n"say ""hi""",,,true\n');
  assert.equal(toCsv([], ["p", "q"]), "p,q\n");
});

test("sampled, trained and forwarded tokens per method: per step and per run, in both CSVs", () => {
  const rows = cellRows(spec, cells);
  const marsRow = rows.find((r) => r.cell === "mars-s0")!;
  // mars: 1200 sampled, 600 trained, 1800 forwarded with and 600 without gradient, over 4 steps.
  assert.deepEqual(
    [marsRow.tokens_sampled, marsRow.tokens_trained, marsRow.tokens_forwarded_grad, marsRow.tokens_forwarded_no_grad],
    [1200, 600, 1800, 600],
  );
  assert.deepEqual(
    [marsRow.sampled_tokens_per_step, marsRow.trained_tokens_per_step, marsRow.forwarded_grad_tokens_per_step, marsRow.forwarded_no_grad_tokens_per_step],
    [300, 150, 450, 150],
  );
  const methods = Object.fromEntries(methodRows(methodSummaries(spec, cells)).map((r) => [r.method, r]));
  for (const [column, value] of Object.entries({
    sampled_tokens_per_step: 250, trained_tokens_per_step: 250, forwarded_grad_tokens_per_step: 750, forwarded_no_grad_tokens_per_step: 250,
    tokens_sampled: 1000, tokens_trained: 1000, tokens_forwarded_grad: 3000, tokens_forwarded_no_grad: 1000,
  })) assert.equal(methods.grpo[column], value, `grpo ${column}`);
  assert.equal(methods.base.forwarded_grad_tokens_per_step, 0);
});

test("sampled-token mismatches: trained pairs more than 5% apart per run (relative to the smaller), base left out", () => {
  const summary = (method: string, perRun: number, steps = 4) => ({ method, steps, tokensSampled: perRun, tokensSampledPerStep: steps ? perRun / steps : 0 }) as MethodSummary;
  const found = sampledTokensMismatches([summary("base", 0, 0), summary("grpo", 1000), summary("mars", 1050), summary("mers", 1051), summary("s3", 2000)]);
  // grpo-mars: 50/1000 = 5% exactly, allowed; grpo-mers 5.1%; s3 against everyone.
  assert.deepEqual(found.map((m) => [m.a, m.b, Number(m.relative.toFixed(6))]), [
    ["grpo", "mers", 0.051], ["grpo", "s3", 1], ["mars", "s3", Number((950 / 1050).toFixed(6))], ["mers", "s3", Number((949 / 1051).toFixed(6))],
  ]);
  assert.deepEqual(sampledTokensMismatches(methodSummaries(spec, cells)).map((m) => [m.a, m.b, m.aPerRun, m.bPerRun, m.aSteps]), [["grpo", "mars", 1000, 1200, 4]], "1200 vs 1000 sampled per run: 20%");
  // Matched per run with more, cheaper steps (turns.json's S = 3): 250 x 4 = 1000 = 200 x 5.
  assert.deepEqual(sampledTokensMismatches([summary("grpo", 1000, 4), summary("longer", 1000, 5)]), []);
  assert.equal(sampledTokensMismatches([summary("grpo", 1000, 4), summary("longer", 1000 * 1.06, 5)]).length, 1);
});

test("cost per run of each comparison: paired differences and ratios with t-intervals, by hand", () => {
  // mars - grpo per seed: sampled 1200 - 1000 = 200 and ratio 1.2 at every seed; trained 600 - 1000 = -400, ratio 0.6.
  const withSeconds = cells.map((c) => (c.method === "grpo" ? { ...c, trainSeconds: [100, 110, 120][c.seed] } : c.method === "mars" ? { ...c, trainSeconds: [50, 66, 60][c.seed] } : c));
  const compute = computeComparisons(spec, withSeconds);
  assert.deepEqual(compute.map((c) => c.quantity), ["tokens_sampled", "tokens_trained", "tokens_forwarded_grad", "train_seconds", "wall_seconds"]);
  const by = Object.fromEntries(compute.map((c) => [c.quantity, c]));
  assert.deepEqual(by.tokens_sampled.seeds, [0, 1, 2]);
  close(by.tokens_sampled.difference.mean, 200, "sampled difference");
  close(by.tokens_sampled.ratio.mean, 1.2, "sampled ratio");
  assert.equal(by.tokens_sampled.ratio.halfWidth, 0, "the same ratio at every seed");
  close(by.tokens_trained.ratio.mean, 0.6, "trained ratio");
  close(by.tokens_forwarded_grad.difference.mean, 3 * -400, "forwarded difference");
  // train seconds: ratios 0.5, 0.6, 0.5 -> mean 0.5333.., s = sqrt(((-1/30)^2 * 2 + (2/30)^2) / 2) = 0.057735
  close(by.train_seconds.ratio.mean, 1.6 / 3, "seconds ratio", 1e-12);
  close(by.train_seconds.ratio.halfWidth, (T2 * 0.05773502691896258) / Math.sqrt(3), "seconds ratio half", 1e-9);
  // differences -50, -44, -60 -> mean -51.333..
  close(by.train_seconds.difference.mean, -154 / 3, "seconds difference", 1e-9);
  close(by.wall_seconds.ratio.mean, 1, "wall seconds (60 s everywhere)");
  const rows = computeComparisonRows(compute);
  assert.deepEqual(Object.keys(rows[0]).slice(0, 7), ["method", "baseline", "quantity", "n_seeds", "seeds", "difference_mean", "difference_ci_low"]);
  assert.equal(rows[1].ratio_mean, by.tokens_trained.ratio.mean);
  // A baseline of 0 gives no ratio rather than Infinity.
  const zero = computeComparisons(spec, cells.map((c) => (c.method === "grpo" ? { ...c, tokensTrained: 0 } : c)));
  assert.ok(Number.isNaN(zero.find((c) => c.quantity === "tokens_trained")!.ratio.mean));
  // No common seed, no rows.
  assert.deepEqual(computeComparisons(spec, cells.filter((c) => c.method !== "grpo")), []);
});

test("Iter-k at the training temperature: its own intervals and paired gains, only where every cell has it", () => {
  // Iter-1, Iter-2 at the training temperature per seed (base, grpo); mars cells lack it.
  const atT = (c: CellResult, values: number[]): CellResult => ({ ...c, iterPass1AtTrainingTemperature: values });
  const withT = cells.map((c) => {
    if (c.method === "base") return atT(c, [[0.05, 0.1], [0.1, 0.15], [0.0, 0.05]][c.seed]);
    if (c.method === "grpo") return atT(c, [[0.15, 0.2], [0.2, 0.25], [0.1, 0.15]][c.seed]);
    return c;
  });
  const [base, grpo, mars] = methodSummaries(spec, withT);
  close(base.iterAtTrainingTemperature![0].mean, 0.05, "base Iter-1 at T");
  // grpo - base at T, Iter-1: 0.10, 0.10, 0.10 -> mean 0.1, zero width
  close(grpo.gainOverBaseAtTrainingTemperature![0].mean, 0.1, "gain at T", 1e-12);
  close(grpo.gainOverBaseAtTrainingTemperature![0].halfWidth, 0, "gain at T half", 1e-12);
  assert.equal(mars.iterAtTrainingTemperature, undefined);
  const rows = methodRows([base, grpo, mars]);
  close(rows[1].iter2_pass1_train_temp_mean as number, 0.2, "grpo Iter-2 at T column");
  assert.ok(!("iter1_pass1_train_temp_mean" in rows[2]));
  assert.equal(cellRows(spec, withT)[3].iter1_pass1_train_temp, 0.15);
});

test("second attempts: per-cell rates in summary.csv, t-intervals over seeds in summary-methods, only where every cell has counts", () => {
  const counts = [
    { failed: 10, fixed: 5, resubmitted: 2 },
    { failed: 20, fixed: 6, resubmitted: 4 },
    { failed: 4, fixed: 1, resubmitted: 0 },
  ];
  const withCounts = cells.map((c) => (c.method === "mars" ? { ...c, secondAttempt: counts[c.seed] } : c));
  const rows = cellRows(spec, withCounts);
  const mars0 = rows.find((r) => r.cell === "mars-s0")!;
  assert.equal(mars0.turn1_failed_went_on, 10);
  assert.equal(mars0.turn2_fixed_rate, 0.5);
  assert.equal(mars0.turn2_resubmitted_rate, 0.2);
  assert.equal(rows.find((r) => r.cell === "grpo-s0")!.turn2_fixed_rate, undefined);
  const [base, grpo, mars] = methodSummaries(spec, withCounts);
  assert.equal(base.secondAttemptFixed, undefined);
  assert.equal(grpo.secondAttemptFixed, undefined);
  // Fixed: 0.5, 0.3, 0.25 -> mean 0.35; resubmitted: 0.2, 0.2, 0 -> mean 0.4 / 3, s = sqrt(((0.2-m)^2 * 2 + m^2) / 2).
  close(mars.secondAttemptFixed!.mean, 0.35, "fixed mean", 1e-12);
  const s = Math.sqrt(((0.5 - 0.35) ** 2 + (0.3 - 0.35) ** 2 + (0.25 - 0.35) ** 2) / 2);
  close(mars.secondAttemptFixed!.halfWidth, (T2 * s) / Math.sqrt(3), "fixed half", 1e-9);
  const m = 0.4 / 3;
  close(mars.secondAttemptResubmitted!.mean, m, "resubmitted mean", 1e-12);
  close(mars.secondAttemptResubmitted!.halfWidth, (T2 * Math.sqrt((2 * (0.2 - m) ** 2 + m ** 2) / 2)) / Math.sqrt(3), "resubmitted half", 1e-9);
  const methodRow = methodRows(methodSummaries(spec, withCounts)).find((r) => r.method === "mars")!;
  close(methodRow.turn2_fixed_rate_mean as number, 0.35, "csv fixed mean", 1e-12);
  // A cell with no failed first attempt has no rate, and then its method gets no interval.
  const noneFailed = withCounts.map((c) => (c.cell === "mars-s1" ? { ...c, secondAttempt: { failed: 0, fixed: 0, resubmitted: 0 } } : c));
  assert.equal(methodSummaries(spec, noneFailed)[2].secondAttemptFixed, undefined);
  assert.equal(cellRows(spec, noneFailed).find((r) => r.cell === "mars-s1")!.turn2_fixed_rate, null);
});
