/**
 * Drawing in a notebook (tslab kernel): plot specs from src/viz become plotly charts, rows become
 * HTML tables.
 *
 * The plotly bundle (plotly.js-basic-dist-min, 1.2 MB) is written into the notebook ONCE, as an
 * inline <script> in the output of the first figure, so an executed notebook exported to HTML
 * draws its figures with no network. Every figure is then a <div class="murphy-figure"> plus a
 * short script calling Plotly.newPlot; the HTML report uses the same markup (figureHtml).
 *
 * The HTML builders are pure functions (tested in node); only `show`, `showTable`, `showHtml` and
 * `liveFigure` talk to tslab, which is loaded lazily so this file can be imported anywhere.
 */
import * as fs from "node:fs";
import type { Figure } from "../viz/figure";
import { tableHtml, type TableOptions } from "./table";

/** The part of tslab's Display we use. */
interface HtmlDisplay {
  html(s: string): void;
}

let bundleShown = false;
let figureCount = 0;

/** The minified plotly bundle's source (basic: scatter, bar, pie). */
export function plotlyBundleSource(): string {
  const file = require.resolve("plotly.js-basic-dist-min/plotly-basic.min.js");
  return fs.readFileSync(file, "utf8");
}

/**
 * A <script> that defines window.Plotly. "</script" cannot appear inside a script element, so any
 * occurrence is written as "<\/script" (the same string to JavaScript).
 */
export function plotlyBundleHtml(): string {
  return `<script type="text/javascript">${plotlyBundleSource().replace(/<\/script/gi, "<\\/script")}</script>`;
}

/** JSON safe inside a <script> element (no "</", no U+2028/2029 line breaks). */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c").replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029");
}

/**
 * One figure as HTML: a div with class "murphy-figure" and a script that draws into it. If plotly
 * is missing (e.g. the notebook was reopened and the cell that loaded it was not re-run), the div
 * says so instead of failing silently.
 */
export function figureHtml(figure: Figure, id: string, style = "width:100%;"): string {
  if (!figure || !Array.isArray(figure.data) || typeof figure.layout !== "object" || figure.layout === null) {
    throw new Error(`figureHtml: expected a figure {data: [...], layout: {...}} (got ${JSON.stringify(figure)?.slice(0, 80)})`);
  }
  if (!/^[A-Za-z][\w-]*$/.test(id)) throw new Error(`figureHtml: id must be letters, digits, "-" or "_" starting with a letter (got ${JSON.stringify(id)})`);
  return (
    `<div class="murphy-figure" id="${id}" style="${style}"></div>` +
    `<script type="text/javascript">(function () {` +
    `var div = document.getElementById(${JSON.stringify(id)});` +
    `if (!window.Plotly) { div.textContent = "plotly is not loaded: run the notebook from the top"; return; }` +
    `window.Plotly.newPlot(div, ${scriptJson(figure.data)}, ${scriptJson(figure.layout)}, {responsive: true, displaylogo: false});` +
    `})();</script>`
  );
}

/** Several figures next to each other (e.g. MaRS and MeRS side by side); they wrap on narrow pages. */
export function figureRowHtml(figures: readonly Figure[], idPrefix: string): string {
  const width = `${Math.floor(100 / Math.max(1, figures.length)) - 1}%`;
  const cells = figures.map((f, i) => figureHtml(f, `${idPrefix}-${i}`, `width:${width};min-width:320px;`));
  return `<div style="display:flex;flex-wrap:wrap;gap:1%;">${cells.join("")}</div>`;
}

function tslabDisplay(): { display: HtmlDisplay; newDisplay(): HtmlDisplay } {
  // Loaded here, not at the top, so tests and the CLI can import this file without tslab.
  return require("tslab") as { display: HtmlDisplay; newDisplay(): HtmlDisplay };
}

/** A fresh element id for the next figure of this notebook. */
function nextId(): string {
  figureCount += 1;
  return `murphy-fig-${process.pid}-${figureCount}`;
}

/** The bundle's <script>, the first time only (per kernel, i.e. per notebook run). */
function bundleOnce(): string {
  if (bundleShown) return "";
  bundleShown = true;
  return plotlyBundleHtml();
}

/** Draw one figure, or several side by side, in the current cell's output. */
export function show(figure: Figure | readonly Figure[], target?: HtmlDisplay): void {
  const out = target ?? tslabDisplay().display;
  const html = Array.isArray(figure) ? figureRowHtml(figure as readonly Figure[], nextId()) : figureHtml(figure as Figure, nextId());
  out.html(bundleOnce() + html);
}

/** Rows of plain objects as an HTML table (arquero), in the current cell's output. */
export function showTable(rows: readonly Record<string, unknown>[], options: TableOptions = {}): void {
  tslabDisplay().display.html(tableHtml(rows, options));
}

/** Any HTML (a small summary, a <pre> block) in the current cell's output. */
export function showHtml(html: string): void {
  tslabDisplay().display.html(html);
}

/**
 * A figure that redraws in place: each `update(figure)` replaces the previous drawing in the same
 * output (tslab's display ids), so a training loop can plot while it runs. The executed notebook
 * keeps the last drawing.
 */
export function liveFigure(): { update(figure: Figure): void } {
  const out = tslabDisplay().newDisplay();
  // The bundle goes into its own output first: the live output is replaced on every update.
  const bundle = bundleOnce();
  if (bundle) tslabDisplay().display.html(bundle);
  const id = nextId();
  return { update: (figure: Figure) => out.html(figureHtml(figure, id)) };
}
