/**
 * Tables as HTML, through arquero: rows of plain objects (one object per row, the same keys)
 * become an <table> with numbers right-aligned and rounded. Used by the notebooks (showTable) and
 * available to the HTML report.
 */
import * as aq from "arquero";
import { escapeHtml } from "../util/html";

export { escapeHtml };

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

/** `rows` as an HTML table. arquero escapes strings (programs contain "<" and "=>"). */
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
