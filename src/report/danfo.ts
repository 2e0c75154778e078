/**
 * A danfo.js DataFrame view of result rows, for those who prefer a pandas-like API:
 *
 *   const df = await toDataFrame(loadResults("headline").cellRows);
 *   df.groupby(["method"]).col(["iter3_pass1"]).mean().print();
 *
 * danfojs-node brings its own TensorFlow.js and registers its kernels when loaded; in a process
 * that already runs the kit's TensorFlow.js that means duplicate-kernel warnings and two tfjs
 * copies. So it is loaded lazily, only here, and nothing in the training or experiment path
 * imports this file.
 */
import type { Row } from "../experiments/summary";

let danfo: Promise<typeof import("danfojs-node")> | undefined;

/** danfojs-node, loaded on first use. */
export function loadDanfo(): Promise<typeof import("danfojs-node")> {
  danfo ??= import("danfojs-node");
  return danfo;
}

/** Rows (e.g. results.cellRows or results.methodRows) as a danfo DataFrame, columns in first-row order. */
export async function toDataFrame(rows: readonly Row[]): Promise<import("danfojs-node").DataFrame> {
  if (rows.length === 0) throw new Error("toDataFrame: no rows (has the experiment finished any cell?)");
  const dfd = await loadDanfo();
  const columns: string[] = [];
  for (const row of rows) for (const key of Object.keys(row)) if (!columns.includes(key)) columns.push(key);
  // Missing values as NaN for numbers' sake; danfo infers each column's dtype from its values.
  return new dfd.DataFrame(rows.map((row) => columns.map((c) => row[c] ?? NaN)), { columns });
}
