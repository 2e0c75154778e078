import { after, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { CellResult } from "../src/experiments/cell-result";
import { loadResults, summaryFiles, withSecondAttempts, type ExperimentRecord } from "../src/experiments/results";
import { cellsOf, parseSpec, resolveConfig } from "../src/experiments/spec";
import { kitVsPaper, loadPaper, PAPER_FILE } from "../src/experiments/paper";
import { writeReport } from "../src/report/report";
import { comparisonSentence, formatInterval, methodMeans, methodsTable, secondAttemptsTable, textTable } from "../src/report/tables";
import { comparisonSummaries } from "../src/experiments/summary";
import { iterKFigure, learningCurveFigure, paperFigure, pruningFigure, secondAttemptFigure, seedBandFigure, turnsFigure } from "../src/viz/results";

const ROOT = path.join(__dirname, "..");
const spec = parseSpec(
  {
    name: "fixture",
    description: "A hand-made experiment <for> tests",
    seeds: [0, 1],
    methods: [
      { name: "base" },
      { name: "grpo", config: "configs/grpo.json", paperMethod: "GRPO" },
      { name: "mars", config: "configs/murphy-mars.json", paperMethod: "MURPHY" },
      { name: "mars3", config: "configs/murphy-mars.json", set: { turns: 3 }, paperMethod: "MURPHY" },
    ],
    eval: { turns: 2, limit: 10 },
    comparisons: [{ method: "mars", baseline: "grpo" }],
    figures: ["iterk", "learning", "pruning", "turns", "repair", "paper"],
  },
  "configs/experiments/fixture.json",
);

// Iter-1, Iter-2 pass@1 per seed (0, 1), chosen so the numbers below are easy by hand.
const PASS: Record<string, number[][]> = {
  base: [[0.1, 0.1], [0.1, 0.3]],
  grpo: [[0.2, 0.3], [0.2, 0.3]],
  mars: [[0.2, 0.4], [0.3, 0.6]],
  mars3: [[0.3, 0.5], [0.3, 0.5]],
};
const TOKENS: Record<string, [number, number]> = { base: [0, 0], grpo: [800, 800], mars: [800, 400], mars3: [1200, 300] };

/** Write a results folder the way the runner does, from hand-made cells. */
function makeFixture(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "murphy-report-"));
  const cells: CellResult[] = [];
  for (const cell of cellsOf(spec)) {
    const m = cell.method.name;
    const steps = m === "base" ? 0 : 2;
    const result: CellResult = {
      experiment: "fixture", cell: cell.id, method: m, seed: cell.seed, iterPass1: PASS[m][cell.seed], evalTasks: 10, eval: spec.eval, steps,
      tokensSampled: TOKENS[m][0], tokensTrained: TOKENS[m][1], tokensForwardedGrad: 3 * TOKENS[m][1], tokensForwardedNoGrad: 0, trainSeconds: 1, evalSeconds: 1, wallSeconds: 120,
      backend: "wasm", gitCommit: "0123456789abcdef", gitDirty: false, sourceTree: "tree", configHash: "c", baseCheckpointHash: "b", tasksHash: "t",
      config: resolveConfig(spec, cell.method, cell.seed), finishedAt: "2026-01-01T00:00:00Z",
    };
    cells.push(result);
    const cellDir = path.join(dir, "cells", cell.id);
    fs.mkdirSync(cellDir, { recursive: true });
    fs.writeFileSync(path.join(cellDir, "cell.json"), JSON.stringify(result));
    const metrics = steps ? [1, 2].map((step) => ({ step, "tokens/sampled": TOKENS[m][0] / 2, "tokens/trained": TOKENS[m][1] / 2, "reward/mean": 0.1 * step, [`turn${result.config!.turns}/solved`]: 0.25 * step })) : [];
    fs.writeFileSync(path.join(cellDir, "metrics.jsonl"), metrics.map((x) => JSON.stringify(x) + "\n").join(""));
    if (m === "mars") {
      // Attempts for the second-attempt counts, which cell.json lacks (as in older cells): seed 0 has 2 failed first
      // attempts that went on, one fixed and one resubmitted; seed 1 has 4, one fixed, none resubmitted.
      const attempt = (taskId: string, turn: number, code: string, solved: boolean) => ({ taskId, chain: 0, turn, code, solved });
      const records = cell.seed === 0
        ? [attempt("a", 1, "x", false), attempt("a", 2, "y", true), attempt("b", 1, "x", false), attempt("b", 2, "x", false)]
        : ["a", "b", "c", "d"].flatMap((t, i) => [attempt(t, 1, "x", false), attempt(t, 2, `y${i}`, i === 0)]);
      fs.writeFileSync(path.join(cellDir, "eval.jsonl"), records.map((x) => JSON.stringify(x) + "\n").join(""));
      cells[cells.length - 1] = withSecondAttempts(result, cellDir)!;
    }
  }
  for (const [file, text] of Object.entries(summaryFiles(spec, cells))) fs.writeFileSync(path.join(dir, file), text);
  const record: ExperimentRecord = { spec, configs: {}, cells: cellsOf(spec).map((c) => ({ id: c.id, status: "finished" as const })) };
  fs.writeFileSync(path.join(dir, "experiment.json"), JSON.stringify(record));
  return dir;
}

const dir = makeFixture();
after(() => fs.rmSync(dir, { recursive: true, force: true }));
const results = loadResults("fixture", dir);
const T1 = Math.tan(Math.PI * 0.475); // t(0.975, 1) = 12.7062
const close = (a: number, b: number, what: string, tol = 1e-9) => assert.ok(Math.abs(a - b) <= tol, `${what}: got ${a}, expected ${b}`);

test("loaded results: cells, summaries, learning curves; CSVs up to date", () => {
  assert.equal(results.cells.length, 8);
  assert.equal(results.summaryUpToDate, true);
  const mars = results.methods.find((m) => m.method === "mars")!;
  // Iter-2: 0.4, 0.6 -> mean 0.5, s = 0.141421, half = 12.7062 * 0.1
  close(mars.iter[1].mean, 0.5, "mars Iter-2 mean");
  close(mars.iter[1].halfWidth, T1 * 0.1, "mars Iter-2 half");
  // Gain over base at Iter-2, paired: 0.4 - 0.1 = 0.3, 0.6 - 0.3 = 0.3.
  close(mars.gainOverBase![1].mean, 0.3, "mars gain");
  close(mars.gainOverBase![1].halfWidth, 0, "mars gain half");
  const curve = results.curves.filter((p) => p.cell === "mars3-s1");
  assert.deepEqual(curve.map((p) => [p.step, p.tokensSampled, p.tokensTrained, p.reward, p.solved]), [[1, 600, 150, 0.1, 0.25], [2, 1200, 300, 0.2, 0.5]]);
  fs.appendFileSync(path.join(dir, "summary.csv"), "tampered\n");
  assert.equal(loadResults("fixture", dir).summaryUpToDate, false);
  fs.writeFileSync(path.join(dir, "summary.csv"), summaryFiles(spec, results.cells)["summary.csv"]);
});

test("tables: intervals as text, per-method means as numbers, fixed-width text", () => {
  assert.equal(formatInterval({ n: 2, mean: 0.5, std: 0.1, halfWidth: 0.25, low: 0.25, high: 0.75 }), "0.500 [0.250, 0.750]");
  assert.equal(formatInterval({ n: 1, mean: 0.5, std: NaN, halfWidth: NaN, low: NaN, high: NaN }), "0.500");
  const means = methodMeans(results);
  close(means.mars.iter2_pass1, 0.5, "mean");
  close(means.grpo.iter1_gain_over_base, 0.1, "grpo gain");
  assert.equal(means.mars3.trained_tokens_per_step, 150);
  assert.equal(means.base.iter1_gain_over_base, undefined);
  const text = textTable(methodsTable(results)).split("\n");
  assert.match(text[0], /^method\s+seeds\s+Iter-1 pass@1\s+Iter-2 pass@1\s+gain over base, Iter-2/);
  // Tokens per step: 400 sampled, 200 trained, 600 forwarded with gradient (3 x trained here); 2 wall minutes; 2 steps.
  assert.match(text[0], /\s+wall min\s+steps$/);
  assert.match(text[4], /^mars\s+2\s+0\.250 \[-0\.385, 0\.885\]\s+0\.500 \[-0\.771, 1\.771\]\s+0\.300 \[0\.300, 0\.300\]\s+400\s+200\s+600\s+2\s+2$/);
  assert.equal(means.mars.forwarded_grad_tokens_per_step, 600);
});

test("the comparison sentence gives both means over the seeds it pairs, not over each method's own seeds", () => {
  // mars finished seed 0 only; grpo both seeds. Iter-2: mars 0.4, grpo 0.3 at seed 0 (grpo's mean over both seeds is also 0.3,
  // so make grpo differ by seed here): grpo seed 1 moved to 0.5.
  const cells = results.cells
    .filter((c) => !(c.method === "mars" && c.seed === 1))
    .map((c) => (c.method === "grpo" && c.seed === 1 ? { ...c, iterPass1: [0.2, 0.5] } : c));
  const partial = { ...results, cells, comparisons: comparisonSummaries(spec, cells) };
  assert.equal(comparisonSentence(partial), "mars vs grpo, Iter-2 pass@1 on 10 test tasks: 0.400 vs 0.300, difference +10.0 points (one seed, no interval).");
});

test("figures: Iter-k error bars are the CI half-widths; pruning, turns and paper figures use the right numbers", () => {
  const iterk = iterKFigure(results);
  assert.equal(iterk.data.length, 4);
  const marsTrace = iterk.data[2] as { y: number[]; error_y: { array: number[] } };
  assert.deepEqual(marsTrace.y.map((v) => Number(v.toFixed(12))), [0.25, 0.5]);
  close(marsTrace.error_y.array[1], T1 * 0.1, "error bar");
  const learning = learningCurveFigure(results, "solved");
  assert.equal(learning.data.length, 6); // 3 trained methods x 2 seeds
  assert.deepEqual(learning.data.map((t) => t.showlegend), [true, false, true, false, true, false]);
  const pruning = pruningFigure(results);
  assert.deepEqual((pruning.data[0] as { y: number[] }).y, [400, 400, 600]); // sampled per step
  assert.deepEqual((pruning.data[1] as { y: number[] }).y, [400, 200, 150]); // trained per step
  const turns = turnsFigure(results);
  assert.deepEqual((turns.data[1] as { x: number[] }).x, [1, 2, 3]); // grpo S=1, mars S=2, mars3 S=3
  // Second attempts, counted from mars's eval.jsonl: fixed 1/2 and 1/4, resubmitted 1/2 and 0 -> means 0.375 and 0.25.
  const repair = secondAttemptFigure(results);
  assert.deepEqual(repair.data.map((t) => (t as { x: string[] }).x), [["mars"], ["mars"]]);
  close((repair.data[0] as { y: number[] }).y[0], 0.375, "fixed mean");
  close((repair.data[1] as { y: number[] }).y[0], 0.25, "resubmitted mean");
  close((repair.data[0] as { error_y: { array: number[] } }).error_y.array[0], (T1 * Math.abs(0.5 - 0.25)) / 2, "fixed half-width: s = |0.5 - 0.25| / sqrt 2, / sqrt 2");
  assert.match(textTable(secondAttemptsTable(results)), /mars\s+2\s+0\.375 \[/);
  assert.equal(results.summaryUpToDate, true);
  const rows = kitVsPaper(results, loadPaper());
  const kit = rows.filter((r) => r.source === "kit");
  assert.deepEqual(kit.map((r) => [r.method, r.kitMethod]), [["GRPO", "grpo"], ["MURPHY", "mars"], ["MURPHY", "mars3"]]);
  close(kit[1].gain, 30, "kit gain in points");
  close(kit[2].gain, 100 * (0.5 - 0.2), "mars3 gain: Iter-2 0.5 - base mean 0.2");
  const paper = paperFigure(rows);
  assert.deepEqual(paper.data.map((t) => t.name), ["GRPO", "MURPHY", "MURPHY: mars3"]);
  const murphy = paper.data[1] as { x: string[]; y: (number | null)[] };
  assert.deepEqual(murphy.x, ["Qwen3-1.7B", "Qwen3-4B", "OLMo-2-7B-Instruct", "kit (fixture)"]);
  assert.deepEqual(murphy.y.slice(0, 3), [6.7, 2.9, 7.4]);
});

test("the paper's numbers: every figure-1 gain with its source; bad files get clear errors", () => {
  const paper = loadPaper();
  assert.deepEqual(paper.gainsOverBase.map((g) => [g.model, g.method, g.gain]), [
    ["Qwen3-1.7B", "GRPO", 2.8], ["Qwen3-1.7B", "MURPHY", 6.7], ["Qwen3-4B", "GRPO", 1.4], ["Qwen3-4B", "MURPHY", 2.9], ["OLMo-2-7B-Instruct", "GRPO", 3.2], ["OLMo-2-7B-Instruct", "MURPHY", 7.4],
  ]);
  assert.ok(paper.gainsOverBase.every((g) => g.source.arxiv === "2511.07833" && g.source.version === "v2" && g.source.where === "figure 1"));
  assert.ok(paper.claims.every((c) => c.source.arxiv === "2511.07833" && /^v[123]$/.test(c.source.version)));
  const bad = path.join(dir, "paper.json");
  const raw = JSON.parse(fs.readFileSync(PAPER_FILE, "utf8"));
  raw.gainsOverBase[1].source = { arxiv: "2511.07833" };
  fs.writeFileSync(bad, JSON.stringify(raw));
  assert.throws(() => loadPaper(bad), /gainsOverBase\[1\]\.source must be \{arxiv, version, where\} strings/);
});

test("writeReport: one self-contained page with tables, figures and links", () => {
  const out = path.join(dir, "build");
  const report = writeReport({ experiment: "fixture", resultsDir: dir, outDir: out, links: [{ title: "Notebook 06 <executed>", href: "../notebooks/06.html" }] });
  assert.equal(report.file, path.join(out, "index.html"));
  const html = fs.readFileSync(report.file, "utf8");
  assert.ok(html.length > 1_000_000, "the plotly bundle is inlined");
  assert.doesNotMatch(html, /<script[^>]+src=/, "no external scripts");
  assert.equal((html.match(/class="murphy-figure"/g) ?? []).length, 8); // iterk, learning (validation Iter-1, turn-1 reward, drift), pruning, turns, repair, paper
  assert.match(html, /A hand-made experiment &lt;for&gt; tests/);
  assert.match(html, /<a href="..\/notebooks\/06.html">Notebook 06 &lt;executed&gt;<\/a>/);
  assert.match(html, /Kit and paper: gains over the base model/);
  assert.match(html, /<td[^>]*>mars - grpo<\/td>/);
  assert.match(html, /<h2>After a failed first attempt<\/h2>/);
  assert.match(html, /<h2>Cost per run \(paired by seed\)<\/h2>/);
  assert.match(html, /<td[^>]*>mars \/ grpo<\/td>/);
  assert.deepEqual(report.warnings, []);
  // mars3 samples 600 tokens per step, grpo and mars 400: two pairs are not compute-matched.
  assert.equal(report.computeWarnings.length, 2);
  assert.match(report.computeWarnings[0], /^Not compute-matched: mars3 samples \d+ completion tokens per run \(600 per step over \d+ steps\) and grpo \d+ \(400 per step over \d+ steps\) \(50\.0% more, above the 5% tolerance\)/);
  assert.match(report.computeWarnings[1], /^Not compute-matched: mars3 samples \d+ completion tokens per run \(600 per step over \d+ steps\) and mars \d+ \(400 per step /);
  assert.match(html, /<div class="warnings"><strong>Warnings<\/strong><ul><li>Not compute-matched: mars3 samples \d+ completion tokens per run \(600 per step/);
  close(report.means.mars.iter2_pass1, 0.5, "means");
});

test("murphy report --json: the table on stdout, per-method means as the last line", () => {
  const out = path.join(dir, "cli-build");
  const r = spawnSync(process.execPath, [path.join(ROOT, "bin", "murphy.js"), "report", "fixture", "--results", dir, "--out", out, "--json"], { cwd: ROOT, encoding: "utf8", timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  const last = JSON.parse(r.stdout.trim().split("\n").pop()!);
  assert.equal(last.experiment, "fixture");
  assert.deepEqual(Object.keys(last.methods), ["base", "grpo", "mars", "mars3"]);
  close(last.methods.mars3.iter1_pass1, 0.3, "mars3 Iter-1");
  close(last.comparisons["mars - grpo"].iter2_pass1, 0.2, "mars - grpo Iter-2"); // (0.1 + 0.3) / 2
  assert.match(r.stdout, /^mars3\s+2\s+0\.300 \[0\.300, 0\.300\]/m);
  // The compute-matching warnings are printed lines of the output, right under the table.
  assert.match(r.stdout, /^mars3 .*\nwarning: Not compute-matched: mars3 samples \d+ completion tokens per run \(600 per step over \d+ steps\) and grpo \d+ \(400 per step .*\nwarning: Not compute-matched: mars3 samples \d+ completion tokens per run \(600 per step over \d+ steps\) and mars \d+ \(400 per step /m);
  assert.equal(last.compute_warnings.length, 2);
  assert.match(r.stdout, /\ncost per run, paired by seed \(method \/ baseline\):\ncomparison +seeds +tokens sampled +tokens trained/);
  // mars - grpo at Iter-2: 0.1, 0.3 -> mean 0.2, half 12.7062 * 0.1 = 1.27062 -> [-107.1, +147.1] points
  assert.equal(last.headline, "mars vs grpo, Iter-2 pass@1 on 10 test tasks: 0.500 vs 0.300, difference +20.0 points (95% CI [-107.1, +147.1], paired over 2 seeds).");
  assert.ok(fs.existsSync(path.join(out, "index.html")));
  const missing = spawnSync(process.execPath, [path.join(ROOT, "bin", "murphy.js"), "report", "nope-experiment"], { cwd: ROOT, encoding: "utf8", timeout: 120_000 });
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /data\/results\/nope-experiment\/experiment\.json: not found; run `npx murphy experiment nope-experiment` first/);
});

test("seedBandFigure: mean over seeds with a lowest-to-highest band, only at steps every seed measured", () => {
  const point = (cell: string, step: number, tokens: number, v: number) => ({ method: "m", seed: 0, cell, step, tokensSampled: tokens, tokensTrained: 0, reward: 0, solved: 0, turn1Reward: 0, validationIter1: v, klStart: NaN });
  const results = {
    name: "demo",
    spec: { methods: [{ name: "base", set: {} }, { name: "m", set: {} }] },
    cells: [{ method: "base", cell: "base-s0", steps: 0 }, { method: "m", cell: "m-s0", steps: 3 }, { method: "m", cell: "m-s1", steps: 3 }],
    curves: [
      point("m-s0", 1, 100, NaN), point("m-s0", 2, 200, 0.5), point("m-s0", 3, 300, 0.6),
      point("m-s1", 1, 110, NaN), point("m-s1", 2, 220, 0.3), point("m-s1", 3, 330, NaN),
    ],
  } as unknown as Parameters<typeof seedBandFigure>[0];
  const figure = seedBandFigure(results, "validationIter1");
  // Only step 2 is measured by both seeds: x = mean(200, 220), y = mean(0.5, 0.3), band [0.3, 0.5].
  const line = figure.data.find((t: Record<string, unknown>) => t.name === "m (2 seeds)") as { x: number[]; y: number[] };
  assert.deepEqual(line.x, [210]);
  assert.ok(Math.abs(line.y[0] - 0.4) < 1e-12);
  const band = figure.data.find((t: Record<string, unknown>) => t.fill === "toself") as { y: number[] };
  assert.deepEqual([...band.y].sort(), [0.3, 0.5]);
  assert.ok(!figure.data.some((t: Record<string, unknown>) => String(t.name).startsWith("base")), "untrained methods have no curve");
});
