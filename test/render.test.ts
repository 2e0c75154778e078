/**
 * Rendering check: open executed notebooks' HTML (build/notebooks/, written by `npm run notebooks`)
 * and the report (build/report/index.html, when it exists) in headless Chromium with no network, and
 * check that every figure drew: each <div class="murphy-figure"> of the page must contain plotly's
 * rendered <svg class="main-svg">. A screenshot of each page goes to build/render/.
 *
 * Skips (with the reason) only when Chromium or the built files are missing; CI runs
 * `npm run notebooks` before `npm test`, so they exist there. A built page older than any of its
 * sources (src/, the notebook, the experiment's results) fails: a stale build proves nothing.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { BUILD_DIR, RESULTS_DIR, ROOT } from "../src/paths";
import { writeReport } from "../src/report/report";
import { tempDir } from "./helpers/temp";

const CHROMIUM = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => fs.existsSync(p));
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-quic",
  "--hide-scrollbars",
  "--virtual-time-budget=20000",
];

/** Number of figure divs in a page's source: what should be drawn. */
export function figuresInSource(html: string): number {
  return (html.match(/<div class="murphy-figure"/g) ?? []).length;
}

/**
 * The figures of a rendered DOM that plotly drew into: the text from each figure div's opening tag to
 * the next one's must contain a main-svg (figures are siblings, never nested).
 */
export function drawnFigures(dom: string): { figures: number; drawn: number; mainSvgs: number } {
  const starts: number[] = [];
  const pattern = /<div[^>]*class="murphy-figure[" ]/g;
  for (let m = pattern.exec(dom); m; m = pattern.exec(dom)) starts.push(m.index);
  let drawn = 0;
  starts.forEach((start, i) => {
    if (dom.slice(start, starts[i + 1] ?? dom.length).includes('class="main-svg"')) drawn++;
  });
  return { figures: starts.length, drawn, mainSvgs: (dom.match(/class="main-svg"/g) ?? []).length };
}

function render(file: string, screenshot?: string): string {
  const url = `file://${file}`;
  const dom = spawnSync(CHROMIUM!, [...FLAGS, "--dump-dom", url], { encoding: "utf8", timeout: 120_000, maxBuffer: 256 * 1024 * 1024 });
  assert.equal(dom.status, 0, `chromium --dump-dom ${file} failed: ${dom.stderr?.slice(-1000)}`);
  if (!screenshot) return dom.stdout;
  fs.mkdirSync(path.dirname(screenshot), { recursive: true });
  fs.rmSync(screenshot, { force: true });
  const shot = spawnSync(CHROMIUM!, [...FLAGS, "--window-size=1280,2400", `--screenshot=${screenshot}`, url], { encoding: "utf8", timeout: 120_000 });
  assert.equal(shot.status, 0, `chromium --screenshot ${file} failed: ${shot.stderr?.slice(-1000)}`);
  assert.ok(fs.existsSync(screenshot) && fs.statSync(screenshot).size > 10_000, `no screenshot written to ${screenshot}`);
  return dom.stdout;
}

/** The most recently modified file under the given files and folders (missing ones are ignored). */
export function newestFile(paths: readonly string[]): { file: string; mtimeMs: number } | undefined {
  let newest: { file: string; mtimeMs: number } | undefined;
  const visit = (p: string) => {
    if (!fs.existsSync(p)) return;
    const stat = fs.statSync(p);
    if (stat.isDirectory()) {
      for (const entry of fs.readdirSync(p)) visit(path.join(p, entry));
    } else if (!newest || stat.mtimeMs > newest.mtimeMs) {
      newest = { file: p, mtimeMs: stat.mtimeMs };
    }
  };
  for (const p of paths) visit(p);
  return newest;
}

/** Fails when `file` is older than one of its sources. */
function checkFresh(file: string, sources: readonly string[], rebuild: string): void {
  const newest = newestFile(sources);
  const built = fs.statSync(file).mtimeMs;
  assert.ok(!newest || newest.mtimeMs <= built, `${path.relative(ROOT, file)} is older than its source ${newest && path.relative(ROOT, newest.file)}: rebuild it (${rebuild})`);
}

function checkPage(t: { skip(message: string): void }, file: string, sources: readonly string[], rebuild: string, screenshot = true): void {
  if (!CHROMIUM) return t.skip("chromium is not installed (apt-get install chromium; scripts/setup.sh does it)");
  if (!fs.existsSync(file)) return t.skip(`${path.relative(process.cwd(), file)} is not built yet (npm run notebooks / npm start build it)`);
  checkFresh(file, sources, rebuild);
  const source = fs.readFileSync(file, "utf8");
  const expected = figuresInSource(source);
  assert.ok(expected > 0, `${file} has no figures`);
  const png = path.join(BUILD_DIR, "render", `${path.basename(path.dirname(file))}-${path.basename(file, ".html")}.png`);
  const dom = render(file, screenshot ? png : undefined);
  const { figures, drawn, mainSvgs } = drawnFigures(dom);
  assert.equal(figures, expected, `figure divs in the rendered page of ${file}`);
  assert.equal(drawn, expected, `figures plotly drew in ${file} (${mainSvgs} main-svg elements)`);
  // A page with the pruning explorer inline (notebook 05): it mounted, scored and drew its trees.
  const explorers = (source.match(/MurphyExplorer\.mount\(/g) ?? []).length;
  assert.equal((dom.match(/class="murphy-explorer"[^>]*data-renders="[1-9]/g) ?? []).length, explorers, `pruning explorers that drew in ${file}`);
}

test("newestFile finds the latest change under folders; a page older than it is stale", () => {
  const dir = tempDir("murphy-render-");
  fs.mkdirSync(path.join(dir, "src", "deep"), { recursive: true });
  for (const [name, seconds] of [["page.html", 200], ["src/a.ts", 100], ["src/deep/b.ts", 300]] as const) {
    fs.writeFileSync(path.join(dir, name), "x");
    fs.utimesSync(path.join(dir, name), seconds, seconds);
  }
  assert.equal(newestFile([path.join(dir, "src"), path.join(dir, "missing")])?.file, path.join(dir, "src", "deep", "b.ts"));
  assert.throws(() => checkFresh(path.join(dir, "page.html"), [path.join(dir, "src")], "npm run notebooks"), /page\.html is older than its source .*b\.ts: rebuild it \(npm run notebooks\)/);
  fs.utimesSync(path.join(dir, "page.html"), 400, 400);
  checkFresh(path.join(dir, "page.html"), [path.join(dir, "src")], "npm run notebooks");
});

test("drawnFigures counts a figure only when plotly's svg is inside it", () => {
  const dom = '<div class="murphy-figure js-plotly-plot" id="a"><svg class="main-svg"></svg></div><div class="murphy-figure" id="b">plotly is not loaded</div>';
  assert.deepEqual(drawnFigures(dom), { figures: 2, drawn: 1, mainSvgs: 1 });
  assert.equal(figuresInSource('<div class="murphy-figure" id="x"></div><script>"class=\\"murphy-figure\\""</script>'), 1);
});

const EXECUTED = path.join(BUILD_DIR, "notebooks");
const executedPages = fs.existsSync(EXECUTED) ? fs.readdirSync(EXECUTED).filter((f) => f.endsWith(".html")).sort() : [];

const SRC = path.join(ROOT, "src");
const notebookSources = (page: string) => [SRC, path.join(ROOT, "notebooks", page.replace(/\.html$/, ".ipynb"))];

test("an executed notebook's HTML draws every figure in headless chromium, offline", { timeout: 300_000 }, (t) => {
  checkPage(t, path.join(EXECUTED, "04-credit-assignment.html"), notebookSources("04-credit-assignment.html"), "npm run notebooks");
});

// Every other executed notebook, when built (DOM only: one chromium start each, no screenshot).
for (const page of executedPages.filter((p) => p !== "04-credit-assignment.html")) {
  test(`executed notebook ${page} draws every figure`, { timeout: 300_000 }, (t) => {
    checkPage(t, path.join(EXECUTED, page), notebookSources(page), "npm run notebooks", false);
  });
}

test("the report draws every figure in headless chromium, offline", { timeout: 300_000 }, (t) => {
  checkPage(t, path.join(BUILD_DIR, "report", "index.html"), [SRC, path.join(RESULTS_DIR, "quick")], "npm start");
});

// The committed experiments' reports, written here so the check never depends on what was built
// before: every figure kind a spec can ask for (feedback's include "repair") must draw.
for (const name of ["headline", "feedback"]) {
  test(`the committed ${name} results' report draws every figure`, { timeout: 300_000 }, (t) => {
    if (!fs.existsSync(path.join(RESULTS_DIR, name, "experiment.json"))) return t.skip(`data/results/${name}/ is not committed`);
    const { file } = writeReport({ experiment: name, outDir: tempDir(`murphy-render-${name}-`) });
    checkPage(t, file, [], "written by this test", false);
  });
}

// Reports of single experiments (`murphy report <name>` writes build/report/<name>/index.html), when built.
const REPORTS = path.join(BUILD_DIR, "report");
const experimentReports = fs.existsSync(REPORTS)
  ? fs.readdirSync(REPORTS).filter((d) => fs.existsSync(path.join(REPORTS, d, "index.html"))).sort()
  : [];
for (const name of experimentReports) {
  test(`report of experiment ${name} draws every figure`, { timeout: 300_000 }, (t) => {
    checkPage(t, path.join(REPORTS, name, "index.html"), [SRC, path.join(RESULTS_DIR, name)], `npx murphy report ${name}`, false);
  });
}
