/**
 * Figures and tables as HTML, for every page the kit writes: notebook outputs (src/notebook/),
 * the experiment report (src/report/) and the pruning explorer (src/explorer/). Pure functions
 * from plot specs (figure.ts) and rows to markup; nothing here knows who shows it.
 *
 * The plotly bundle (plotly.js-basic-dist-min, 1.2 MB) goes into a page once, as an inline
 * <script>, so pages draw with no network. Every figure is a <div class="murphy-figure"> plus a
 * short script calling Plotly.newPlot.
 */
import * as fs from "node:fs";
import * as aq from "arquero";
import type { Figure } from "./figure";

/** Text made safe to place inside HTML elements and double-quoted attributes. */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** The minified plotly bundle's source (basic: scatter, bar, pie). */
export function plotlyBundleSource(): string {
  const file = require.resolve("plotly.js-basic-dist-min/plotly-basic.min.js");
  return fs.readFileSync(file, "utf8");
}

/** JavaScript source made safe inside a <script> element: "</script" is written "<\/script". */
export function inlineScript(source: string): string {
  return `<script type="text/javascript">${source.replace(/<\/script/gi, "<\\/script")}</script>`;
}

/** A <script> that defines window.Plotly. */
export function plotlyBundleHtml(): string {
  return inlineScript(plotlyBundleSource());
}

/** JSON safe inside a <script> element (no "</", no U+2028/2029 line breaks). */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c").replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029");
}

/**
 * One figure as HTML: a div with class "murphy-figure" and a script that draws into it. If plotly
 * is missing (e.g. a notebook was reopened and the cell that loaded it was not re-run), the div
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

export interface TableOptions {
  /** Columns to show, in order (default: the keys of the first row). */
  columns?: readonly string[];
  /** Most rows shown (default 50); the caption says how many were left out. */
  limit?: number;
  /** Fractional digits of numbers (default 4). */
  digits?: number;
  /** A caption above the table. */
  caption?: string;
}

/**
 * Rows of plain objects (one object per row, the same keys) as an HTML table, through arquero:
 * numbers right-aligned and rounded, strings escaped (programs contain "<" and "=>").
 */
export function tableHtml(rows: readonly Record<string, unknown>[], options: TableOptions = {}): string {
  const limit = options.limit ?? 50;
  if (!Number.isInteger(limit) || limit < 1) throw new Error(`tableHtml: limit must be an integer >= 1 (got ${limit})`);
  const columns = options.columns ?? (rows.length ? Object.keys(rows[0]) : []);
  const caption = options.caption ? `<div style="font-weight:600;margin:4px 0;">${escapeHtml(options.caption)}</div>` : "";
  if (rows.length === 0) return `${caption}<div><i>(no rows)</i></div>`;
  for (const [i, row] of rows.entries()) {
    for (const c of columns) {
      if (!(c in row)) throw new Error(`tableHtml: row ${i} has no column "${c}" (columns: ${columns.join(", ")})`);
    }
  }
  // arquero infers a column's type from its values; keep every cell a number, boolean or string.
  const data: Record<string, unknown[]> = Object.fromEntries(columns.map((c) => [c, rows.map((r) => cell(r[c]))]));
  const table = aq.table(data);
  const html = table.toHTML({
    limit,
    maxdigits: options.digits ?? 4,
    style: { table: "border-collapse:collapse;font-size:13px;", th: "padding:2px 8px;border-bottom:1px solid #999;", td: "padding:2px 8px;font-family:monospace;white-space:pre;" },
  });
  const more = rows.length > limit ? `<div><i>${rows.length - limit} more rows not shown</i></div>` : "";
  return caption + html + more;
}

function cell(value: unknown): unknown {
  if (value === null || value === undefined) return "";
  if (typeof value === "number" || typeof value === "boolean") return value;
  if (typeof value === "string") return value;
  return JSON.stringify(value);
}
