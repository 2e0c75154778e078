/**
 * The executed notebooks in build/notebooks/ (written by `npm run notebooks`), as links for the HTML
 * report: each `<name>.html` with the title of its notebook (the first markdown heading).
 *
 *   writeReport({ experiment: "quick", outDir: "build/report", links: executedNotebookLinks("build/notebooks", "build/report") })
 */
import * as fs from "node:fs";
import * as path from "node:path";

export interface NotebookLink {
  title: string;
  /** Path of the HTML relative to `relativeTo` (forward slashes, usable as an href). */
  href: string;
}

/** The first "# heading" of a notebook's markdown cells, or null. */
export function notebookTitle(notebookJson: string, where = "notebook"): string | null {
  let nb: { cells?: { cell_type?: string; source?: string | string[] }[] };
  try {
    nb = JSON.parse(notebookJson) as typeof nb;
  } catch (e) {
    throw new Error(`${where}: not valid JSON (${(e as Error).message})`);
  }
  for (const cell of nb.cells ?? []) {
    if (cell.cell_type !== "markdown") continue;
    const text = Array.isArray(cell.source) ? cell.source.join("") : (cell.source ?? "");
    const heading = text.split("\n").find((line) => /^#\s+\S/.test(line));
    if (heading) return heading.replace(/^#\s+/, "").trim();
  }
  return null;
}

/** Links to every `<name>.html` in `dir`, in name order, titled from `<name>.ipynb` next to it. */
export function executedNotebookLinks(dir: string, relativeTo: string): NotebookLink[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".html"))
    .sort()
    .map((file) => {
      const name = file.replace(/\.html$/, "");
      const ipynb = path.join(dir, `${name}.ipynb`);
      const title = fs.existsSync(ipynb) ? notebookTitle(fs.readFileSync(ipynb, "utf8"), ipynb) : null;
      const href = path.relative(relativeTo, path.join(dir, file)).split(path.sep).join("/");
      return { title: title ?? name, href };
    });
}
