/**
 * The HTML report of an experiment: one self-contained file (plotly's basic bundle inlined, no
 * network) with the per-method table, the paired comparisons, the kit-vs-paper gains, the figures
 * the spec asks for, every cell with its provenance, and optional links (e.g. to executed
 * notebooks).
 *
 *   writeReport({ experiment: "headline" })  // -> build/report/headline/index.html
 *
 * Tables are arquero tables rendered with toHTML(); figures are src/viz/results.ts specs drawn
 * with the same markup as the notebooks (src/viz/html.ts: a div.murphy-figure each).
 */
import * as path from "node:path";
import { BUILD_DIR, ROOT } from "../paths";
import { writeFileAtomic } from "../util/files";
import { type ExperimentResults, loadResults } from "../experiments/results";
import type { FigureKind } from "../experiments/spec";
import type { Figure } from "../viz/figure";
import { iterKFigure, paperFigure, pruningFigure, secondAttemptFigure, seedBandFigure, turnsFigure } from "../viz/results";
import { escapeHtml, figureHtml, plotlyBundleHtml } from "../viz/html";
import { cellsTable, comparisonSentence, comparisonsTable, computeTable, methodMeans, methodsTable, paperTable, secondAttemptsTable, type Table } from "./tables";
import { kitVsPaper, loadPaper } from "../experiments/paper";
import { SAMPLED_TOKENS_TOLERANCE, sampledTokensMismatches } from "../experiments/summary";

export interface ReportLink {
  title: string;
  href: string;
}

export interface ReportOptions {
  /** Experiment name (data/results/<name>/). */
  experiment: string;
  /** Default build/report/<name>/. */
  outDir?: string;
  /** Extra links listed at the end, e.g. executed notebooks. */
  links?: ReportLink[];
  /** Read results from this folder instead of data/results/<name>/. */
  resultsDir?: string;
}

export interface ReportOutput {
  /** The index.html written. */
  file: string;
  results: ExperimentResults;
  /** Per-method means (what `murphy report --json` prints). */
  means: Record<string, Record<string, number>>;
  /** Problems worth a reader's attention (missing or stale cells, out-of-date CSVs). */
  warnings: string[];
  /** Pairs of trained methods that were not compute-matched (computeMatchWarnings). */
  computeWarnings: string[];
}

/** The figures of the kinds a spec lists, with a short caption each. */
export function reportFigures(results: ExperimentResults, kinds: readonly FigureKind[]): { kind: FigureKind; caption: string; figure: Figure }[] {
  const out: { kind: FigureKind; caption: string; figure: Figure }[] = [];
  for (const kind of kinds) {
    switch (kind) {
      case "iterk":
        out.push({ kind, caption: "Iter-k pass@1: the fraction of test tasks solved within k sequential attempts, each seeing the previous attempt's feedback.", figure: iterKFigure(results) });
        break;
      case "learning":
        // Like with like: MURPHY's reward/mean includes its repair attempts, so the curves compare
        // first attempts (turn-1 reward) and held-out Iter-1, with the drift beside them.
        out.push(
          { kind, caption: "Validation Iter-1 pass@1 on the probe tasks during training, against completion tokens sampled so far (methods compared at equal sampling compute along the x-axis); line: mean over seeds, band: lowest to highest seed.", figure: seedBandFigure(results, "validationIter1") },
          { kind, caption: "Mean reward of the first attempts (turn 1) of each step, a trailing mean over 10 steps: the quantity both GRPO and MURPHY sample alike. Band: lowest to highest seed.", figure: seedBandFigure(results, "turn1Reward") },
          { kind, caption: "Drift: KL from the starting policy on a fixed probe set of validation prompts (metric kl/start). A method that gains Iter-k while drifting less has spent its update better.", figure: seedBandFigure(results, "klStart") },
        );
        break;
      case "pruning":
        out.push({ kind, caption: "Pruning (IntraP inside sibling groups, InterP across turns) happens after the rollouts: it cuts the tokens trained on, not the tokens sampled.", figure: pruningFigure(results) });
        break;
      case "turns":
        out.push({ kind, caption: "Training with more turns S per rollout tree: does more feedback in training help more at Iter-k?", figure: turnsFigure(results) });
        break;
      case "repair":
        out.push({ kind, caption: "Of the test chains whose first attempt failed its visible tests, the share the second attempt fixed and the share that resubmitted the failed program unchanged: a policy that reads feedback fixes more and resubmits less.", figure: secondAttemptFigure(results) });
        break;
      case "paper":
        out.push({ kind, caption: "Gains over the base model in percentage points. Paper: arXiv 2511.07833 v2 figure 1 (its Iter-k is not known here). Kit: the last evaluated Iter-k, paired by seed, 95% CI.", figure: paperFigure(kitVsPaper(results, loadPaper())) });
        break;
    }
  }
  return out;
}

function tableSection(title: string, table: Table, note = ""): string {
  if (table.numRows() === 0) return "";
  return `<h2>${escapeHtml(title)}</h2>${note ? `<p class="note">${escapeHtml(note)}</p>` : ""}${table.toHTML({ style: { table: "border-collapse: collapse; margin: 0.5em 0;", td: "padding: 2px 10px; border-bottom: 1px solid #ddd;", th: "padding: 2px 10px; border-bottom: 2px solid #999;" } })}`;
}

/** Warnings about the state of the results. */
export function resultWarnings(results: ExperimentResults): string[] {
  const warnings: string[] = [];
  if (results.missing.length) warnings.push(`${results.missing.length} cell(s) have not run: ${results.missing.join(", ")}. Run \`npx murphy experiment ${results.name}\` to finish them.`);
  if (results.stale.length) warnings.push(`${results.stale.length} cell(s) ran with other inputs than the current ones and are left out: ${results.stale.join(", ")}.`);
  if (!results.summaryUpToDate) warnings.push(`The CSV files in ${path.relative(ROOT, results.dir)}/ do not match the cells; run \`npx murphy experiment ${results.name}\` (it skips finished cells and rewrites them).`);
  const trees = new Set(results.cells.map((c) => c.sourceTree));
  if (trees.size > 1) warnings.push(`The cells were produced by ${trees.size} different versions of src/ (see the commit column of the cells table); rerun with the same code for one consistent table.`);
  const dirty = results.cells.filter((c) => c.gitDirty).map((c) => c.cell);
  if (dirty.length) warnings.push(`${dirty.length} cell(s) ran with uncommitted changes under src/ or configs/: ${dirty.join(", ")}.`);
  return warnings;
}

/**
 * One warning per pair of trained methods whose mean sampled tokens per run differ by more than
 * SAMPLED_TOKENS_TOLERANCE (5%): their comparison is not at equal rollout compute.
 */
export function computeMatchWarnings(results: ExperimentResults): string[] {
  return sampledTokensMismatches(results.methods).map((m) => {
    const [more, less] = m.aPerRun >= m.bPerRun ? [m.a, m.b] : [m.b, m.a];
    const perRun = (method: string) => Math.round(method === m.a ? m.aPerRun : m.bPerRun);
    const perStep = (method: string) => {
      const steps = method === m.a ? m.aSteps : m.bSteps;
      return `${Math.round(perRun(method) / steps)} per step over ${steps} steps`;
    };
    return (
      `Not compute-matched: ${more} samples ${perRun(more)} completion tokens per run (${perStep(more)}) and ${less} ${perRun(less)} (${perStep(less)}) ` +
      `(${(100 * m.relative).toFixed(1)}% more, above the ${100 * SAMPLED_TOKENS_TOLERANCE}% tolerance), so a difference between them may come from rollout compute alone. ` +
      `To match a GRPO baseline to a MURPHY run: \`npx murphy compute-match --metrics ${path.relative(ROOT, results.dir) || "."}/cells/<murphy cell>/metrics.jsonl\`.`
    );
  });
}

/** The whole report page. */
export function reportHtml(results: ExperimentResults, links: readonly ReportLink[] = []): { html: string; warnings: string[]; computeWarnings: string[] } {
  const { spec } = results;
  const warnings = resultWarnings(results);
  const computeWarnings = computeMatchWarnings(results);
  const shown = [...computeWarnings, ...warnings];
  const commits = [...new Set(results.cells.map((c) => c.gitCommit.slice(0, 10)))];
  const backends = [...new Set(results.cells.map((c) => c.backend))];
  const figures = reportFigures(results, spec.figures);
  const facts = [
    `seed(s) ${spec.seeds.join(", ")}`,
    `eval: ${spec.eval.split} split${spec.eval.limit ? `, first ${spec.eval.limit} tasks` : ""}, Iter-1..${spec.eval.turns}, ${spec.eval.samples} chain(s) per task, temperature ${spec.eval.temperature}`,
    `shared settings ${JSON.stringify(spec.set)}`,
    `base checkpoint ${spec.baseCheckpoint}${results.cells[0] ? ` (weights ${results.cells[0].baseCheckpointHash})` : ""}`,
    `backend ${backends.join(", ") || "-"}, commit ${commits.join(", ") || "-"}`,
  ];
  const body = [
    `<h1>MURPHY kit: ${escapeHtml(spec.name)}</h1>`,
    spec.description ? `<p>${escapeHtml(spec.description)}</p>` : "",
    `<ul class="facts">${facts.map((f) => `<li>${escapeHtml(f)}</li>`).join("")}</ul>`,
    comparisonSentence(results) ? `<p class="headline"><strong>${escapeHtml(comparisonSentence(results)!)}</strong></p>` : "",
    shown.length ? `<div class="warnings"><strong>Warnings</strong><ul>${shown.map((w) => `<li>${escapeHtml(w)}</li>`).join("")}</ul></div>` : "",
    tableSection("Per method", methodsTable(results), "Iter-k pass@1: mean [95% CI by Student t over seeds]. Gain over base: paired by seed. Tokens per step: completion tokens sampled (rollouts) and trained (after pruning), prompt + completion tokens forwarded with gradient (the update); summary-methods.csv also has totals per run and tokens forwarded without gradient."),
    tableSection("Comparisons (paired by seed)", comparisonsTable(results), "Difference of Iter-k pass@1, method minus baseline, at the same seed (same training tasks and evaluation sampling streams)."),
    tableSection("After a failed first attempt", secondAttemptsTable(results), `Of the Iter-k chains whose first attempt failed its visible tests (temperature ${spec.eval.temperature}), the fraction the second attempt fixed and the fraction that resubmitted the failed program unchanged: mean [95% CI] over seeds. A policy that reads feedback fixes more and resubmits less.`),
    results.compute.length ? tableSection("Cost per run (paired by seed)", computeTable(results), "Method / baseline at the same seed, mean [95% CI] over seeds: completion tokens sampled and trained, prompt + completion tokens forwarded with gradient, training and wall seconds. Seconds depend on what else the machine ran: compare them only between cells run under the same load (comparisons-compute.csv has the differences too).") : "",
    spec.figures.includes("paper") ? tableSection("Kit and paper: gains over the base model", paperTable(kitVsPaper(results, loadPaper())), "Percentage points. Absolute scores are not comparable (the kit's tiny model on its own tasks vs 1.7B-7B models on HumanEval, MBPP, LiveCodeBench); gains over each one's own base model are.") : "",
    figures.length ? `<h2>Figures</h2>${figures.map((f, i) => `<figure>${figureHtml(f.figure, `fig-${f.kind}-${i}`)}<figcaption>${escapeHtml(f.caption)}</figcaption></figure>`).join("\n")}` : "",
    tableSection("Cells", cellsTable(results), `One row per (method, seed); files in ${path.relative(ROOT, results.dir)}/cells/.`),
    links.length ? `<h2>More</h2><ul>${links.map((l) => `<li><a href="${escapeHtml(l.href)}">${escapeHtml(l.title)}</a></li>`).join("")}</ul>` : "",
  ].join("\n");
  const style = "body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}h2{margin-top:1.6em}.note,figcaption{color:#555;font-size:0.9em}.warnings{background:#fff4e5;border:1px solid #e6a23c;padding:0.5em 1em}figure{margin:1em 0}";
  const html = `<!doctype html>\n<html><head><meta charset="utf-8"><title>MURPHY kit: ${escapeHtml(spec.name)}</title><style>${style}</style>\n${plotlyBundleHtml()}\n</head><body>\n${body}\n</body></html>\n`;
  return { html, warnings, computeWarnings };
}

/** Load an experiment's results and write its HTML report; returns where and the per-method means. */
export function writeReport(options: ReportOptions): ReportOutput {
  const results = loadResults(options.experiment, options.resultsDir);
  const outDir = options.outDir ?? path.join(BUILD_DIR, "report", results.name);
  const { html, warnings, computeWarnings } = reportHtml(results, options.links ?? []);
  const file = path.join(outDir, "index.html");
  writeFileAtomic(file, html);
  return { file, results, means: methodMeans(results), warnings, computeWarnings };
}
