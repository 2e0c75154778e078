/**
 * Drawing in a notebook (tslab kernel): plot specs from src/viz become plotly charts, rows become
 * HTML tables.
 *
 * The plotly bundle (plotly.js-basic-dist-min, 1.2 MB) is written into the notebook ONCE, as an
 * inline <script> in the output of the first figure, so an executed notebook exported to HTML
 * draws its figures with no network. The markup comes from src/viz/html.ts, the same as the HTML
 * report's. tslab is loaded lazily so this file can be imported anywhere.
 */
import type { Figure } from "../viz/figure";
import { figureHtml, figureRowHtml, plotlyBundleHtml, tableHtml, type TableOptions } from "../viz/html";

export { escapeHtml } from "../viz/html";

/** The part of tslab's Display we use. */
interface HtmlDisplay {
  html(s: string): void;
}

let bundleShown = false;
let figureCount = 0;

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

/** HTML that draws with plotly itself (e.g. the pruning explorer): the bundle goes first, once. */
export function showPlotlyHtml(html: string): void {
  tslabDisplay().display.html(bundleOnce() + html);
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
