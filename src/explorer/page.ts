/**
 * The pruning explorer as HTML: the browser app (app.ts) bundled by esbuild when the page is built
 * (never committed), the recorded batches of trees and the base options embedded as JSON.
 *
 *   writeExplorerPage("build/report/explorer.html");      // a self-contained page (npm start)
 *   explorerHtml(explorerData(), "explorer-1");           // a fragment for a notebook output
 *
 * The base options are the default run config's (src/murphy/config.ts defaultConfig), so the
 * explorer scores trees exactly as training with those settings would.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { buildSync } from "esbuild";
import { defaultConfig } from "../murphy/config";
import { stageOptions } from "../murphy/stage-options";
import type { ScoreOptions } from "../murphy/pipeline";
import { DATA_DIR, ROOT } from "../paths";
import { writeFileAtomic } from "../util/files";
import { escapeHtml, inlineScript, plotlyBundleHtml, scriptJson } from "../viz/html";
import type { ExplorerData } from "./app";

/** Where recorded batches live; every *.jsonl there is offered by default. */
export const ROLLOUTS_DIR = path.join(DATA_DIR, "rollouts");

let bundle: string | undefined;

/** The app bundled for the browser (an IIFE defining the global MurphyExplorer), built once per process. */
export function explorerBundle(): string {
  if (bundle === undefined) {
    const result = buildSync({
      entryPoints: [path.join(__dirname, "app.ts")],
      bundle: true,
      format: "iife",
      globalName: "MurphyExplorer",
      platform: "browser",
      target: "es2020",
      minify: true,
      write: false,
      logLevel: "silent",
    });
    bundle = result.outputFiles[0].text;
  }
  return bundle;
}

/** The run config's credit, advantage and pruning options: what the controls start from. */
export function baseScoreOptions(): ScoreOptions {
  return stageOptions(defaultConfig()).score;
}

/** The batches in `files` (default: every data/rollouts/*.jsonl) and the base options. */
export function explorerData(files?: readonly string[], base: ScoreOptions = baseScoreOptions()): ExplorerData {
  const chosen = files ?? (fs.existsSync(ROLLOUTS_DIR) ? fs.readdirSync(ROLLOUTS_DIR).filter((f) => f.endsWith(".jsonl")).sort().map((f) => path.join(ROLLOUTS_DIR, f)) : []);
  if (chosen.length === 0) throw new Error(`pruning explorer: no batch of rollout trees (no *.jsonl in ${path.relative(ROOT, ROLLOUTS_DIR)}; write one with \`murphy rollouts\`)`);
  const batches = chosen.map((file) => {
    if (!fs.existsSync(file)) throw new Error(`pruning explorer: ${file} not found`);
    return { name: path.basename(file), text: fs.readFileSync(file, "utf8") };
  });
  return { batches, base };
}

/** The explorer as an HTML fragment (needs window.Plotly): a container, the app, the mount call. */
export function explorerHtml(data: ExplorerData, id: string): string {
  if (!/^[A-Za-z][\w-]*$/.test(id)) throw new Error(`explorerHtml: id must be letters, digits, "-" or "_" starting with a letter (got ${JSON.stringify(id)})`);
  return (
    `<div id="${id}" class="murphy-explorer">loading the pruning explorer ...</div>` +
    inlineScript(explorerBundle()) +
    `<script type="text/javascript">MurphyExplorer.mount(document.getElementById(${JSON.stringify(id)}), ${scriptJson(data)});</script>`
  );
}

/** A whole page: plotly's bundle, a short introduction and the explorer. */
export function explorerPage(data: ExplorerData): string {
  const intro =
    "Each batch holds real rollout trees of the kit's policy. Change a control and every tree is scored again with the kit's own " +
    "credit, pruning and advantage functions (src/murphy/pipeline.ts): grey crosses are candidates the update would not train; " +
    "hover over a node for its prune reason, R, A, program and feedback. Load your own batch with `murphy rollouts --out my.jsonl`.";
  return (
    `<!doctype html>\n<html><head><meta charset="utf-8"><title>MURPHY kit: pruning explorer</title>\n${plotlyBundleHtml()}\n</head>` +
    `<body style="max-width:1400px;margin:1em auto;padding:0 1em;font-family:system-ui,sans-serif">` +
    `<h1>Pruning explorer</h1><p style="color:#555">${escapeHtml(intro)}</p>\n${explorerHtml(data, "explorer")}\n</body></html>\n`
  );
}

/** Build the page into `file` (atomically) from the given batches (default: data/rollouts/*.jsonl). */
export function writeExplorerPage(file: string, batches?: readonly string[]): string {
  writeFileAtomic(file, explorerPage(explorerData(batches)));
  return file;
}
