/** Kept for notebooks that import escapeHtml from here; the HTML helpers live in src/viz/html.ts. */
export { escapeHtml, tableHtml, type TableOptions } from "../viz/html";
