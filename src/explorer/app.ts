/// <reference lib="dom" />
/**
 * The pruning explorer in the browser: pick a batch of recorded rollout trees (or load your own
 * JSONL file), change credit, IntraP, InterP and the advantage scale, and every change rescored at
 * once with the kit's own functions (explore.ts -> src/murphy/pipeline.ts scoreTree) and redrawn:
 * the trees (kept and dropped, coloured by R or A, the prune reason on hover), trained tokens
 * against no pruning, and the share of zero-signal groups.
 *
 * Bundled for the browser by esbuild at build time (page.ts), as the global `MurphyExplorer`;
 * the page calls `MurphyExplorer.mount(element, data)`. Plotly must be loaded first (window.Plotly).
 * Numbers a test reads carry their exact value in a `data-value` attribute.
 */
import type { ScoreOptions } from "../murphy/pipeline";
import { parseTreeBatch, type TreeBatch } from "../murphy/tree-jsonl";
import { barChart } from "../viz/figure";
import { ADVANTAGE_COLOURS, treeFigure } from "../viz/tree";
import { explore, settingsOf, withSettings, type ExplorerSettings } from "./explore";

export interface ExplorerData {
  /** Recorded batches: a name and the JSONL text (src/murphy/tree-jsonl.ts). */
  batches: { name: string; text: string }[];
  /** The options the controls start from and override (the run config's defaults). */
  base: ScoreOptions;
  /** At most this many trees are drawn (all are scored); default 12. */
  maxTreesDrawn?: number;
}

interface PlotlyApi {
  react(div: HTMLElement, data: unknown[], layout: unknown, config?: unknown): unknown;
}

const CONTROLS = `
<div class="mx-controls">
  <fieldset><legend>trees</legend>
    <label>batch <select data-control="batch"></select></label>
    <label>or load a file <input type="file" accept=".jsonl,.json,.txt" data-control="file"></label>
  </fieldset>
  <fieldset><legend>credit</legend>
    <label>strategy <select data-control="strategy"><option value="mars">MaRS (max)</option><option value="mers">MeRS (mean)</option></select></label>
    <label>&gamma; <input type="range" min="0" max="1" step="0.05" data-control="gamma"> <output data-show="gamma"></output></label>
  </fieldset>
  <fieldset><legend>IntraP</legend>
    <label><input type="checkbox" data-control="intraPrune"> on</label>
    <label>B <input type="number" min="2" max="32" step="1" data-control="maxPerGroup"></label>
  </fieldset>
  <fieldset><legend>InterP</legend>
    <label><input type="checkbox" data-control="interPrune"> on</label>
    <label>K <input type="number" min="1" max="32" step="1" data-control="maxSubtrees"></label>
  </fieldset>
  <fieldset><legend>advantage</legend>
    <label>scale <select data-control="scale"><option value="std">std (GRPO)</option><option value="none">none (Dr. GRPO)</option></select></label>
    <label>colour by <select data-control="colour"><option value="R">R (propagated reward)</option><option value="A">A (trained advantage)</option></select></label>
  </fieldset>
</div>
<div class="mx-error" data-role="error" hidden></div>
<p class="mx-note" data-role="note" hidden></p>
<p class="mx-summary">
  kept <b data-metric="kept"></b> of <b data-metric="candidates"></b> candidates;
  trained <b data-metric="trained-tokens"></b> of <b data-metric="sampled-tokens"></b> completion tokens (no pruning trains all; <b data-metric="saved"></b> saved);
  zero-signal groups <b data-metric="zero-signal"></b> (on raw r, before credit: <b data-metric="zero-signal-raw"></b>).
  <br><span class="mx-reasons" data-role="reasons"></span>
</p>
<div class="mx-row"><div data-role="tokens-figure" class="mx-small"></div><div class="mx-table" data-role="per-tree"></div></div>
<details class="mx-provenance"><summary>where these trees come from</summary><pre data-role="provenance"></pre></details>
<div data-role="trees" class="mx-trees"></div>`;

const STYLE = `
.murphy-explorer{font-family:system-ui,sans-serif;font-size:14px;color:#222}
.murphy-explorer fieldset{display:inline-block;border:1px solid #ccc;border-radius:4px;margin:2px 4px 6px 0;padding:2px 8px;vertical-align:top}
.murphy-explorer legend{font-weight:600;font-size:12px;color:#555}
.murphy-explorer label{margin-right:8px;white-space:nowrap}
.murphy-explorer input[type=number]{width:4em}
.murphy-explorer .mx-error{background:#fdecea;border:1px solid #d9534f;padding:4px 8px;margin:4px 0;white-space:pre-wrap}
.murphy-explorer .mx-row{display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start}
.murphy-explorer .mx-small{width:380px;min-width:300px}
.murphy-explorer table{border-collapse:collapse;font-size:12px}
.murphy-explorer td,.murphy-explorer th{padding:1px 8px;border-bottom:1px solid #ddd;text-align:right}
.murphy-explorer .mx-trees{display:grid;grid-template-columns:repeat(auto-fill,minmax(460px,1fr));gap:8px}
.murphy-explorer pre{font-size:11px;white-space:pre-wrap}`;

const percent = (x: number) => `${(100 * x).toFixed(1)}%`;

function escapeText(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** Build the explorer inside `root` and draw it once. */
export function mount(root: HTMLElement, data: ExplorerData): void {
  const plotly = (globalThis as unknown as { Plotly?: PlotlyApi }).Plotly;
  root.classList.add("murphy-explorer");
  if (!plotly) {
    root.textContent = "plotly is not loaded: the pruning explorer cannot draw";
    return;
  }
  root.innerHTML = `<style>${STYLE}</style>${CONTROLS}`;
  const $ = <T extends HTMLElement>(selector: string) => root.querySelector(selector) as T;
  const control = <T extends HTMLElement>(name: string) => $<T>(`[data-control="${name}"]`);
  const errorBox = $<HTMLDivElement>('[data-role="error"]');
  const batches: { name: string; batch: TreeBatch }[] = [];
  const batchSelect = control<HTMLSelectElement>("batch");
  const addBatch = (name: string, batch: TreeBatch) => {
    batches.push({ name, batch });
    const option = document.createElement("option");
    option.value = String(batches.length - 1);
    option.textContent = `${name} (${batch.trees.length} trees)`;
    batchSelect.appendChild(option);
    batchSelect.value = option.value;
  };
  const showError = (message: string) => {
    errorBox.textContent = message;
    errorBox.hidden = message === "";
  };
  for (const b of data.batches) addBatch(b.name, parseTreeBatch(b.text, b.name));
  batchSelect.value = "0";

  const start = settingsOf(data.base);
  control<HTMLSelectElement>("strategy").value = start.strategy;
  control<HTMLInputElement>("gamma").value = String(start.gamma);
  control<HTMLInputElement>("intraPrune").checked = start.intraPrune;
  control<HTMLInputElement>("maxPerGroup").value = String(start.maxPerGroup);
  control<HTMLInputElement>("interPrune").checked = start.interPrune;
  control<HTMLInputElement>("maxSubtrees").value = String(start.maxSubtrees);
  control<HTMLSelectElement>("scale").value = start.scale;

  const readSettings = (): ExplorerSettings => ({
    strategy: control<HTMLSelectElement>("strategy").value as ExplorerSettings["strategy"],
    gamma: Number(control<HTMLInputElement>("gamma").value),
    intraPrune: control<HTMLInputElement>("intraPrune").checked,
    maxPerGroup: Number(control<HTMLInputElement>("maxPerGroup").value),
    interPrune: control<HTMLInputElement>("interPrune").checked,
    maxSubtrees: Number(control<HTMLInputElement>("maxSubtrees").value),
    scale: control<HTMLSelectElement>("scale").value as ExplorerSettings["scale"],
  });

  const metric = (name: string, value: number, text: string) => {
    const el = $(`[data-metric="${name}"]`);
    el.dataset.value = String(value);
    el.textContent = text;
  };

  let renders = 0;
  const render = () => {
    const settings = readSettings();
    $<HTMLOutputElement>('[data-show="gamma"]').textContent = settings.gamma.toFixed(2);
    control<HTMLInputElement>("maxPerGroup").disabled = !settings.intraPrune;
    control<HTMLInputElement>("maxSubtrees").disabled = !settings.interPrune;
    const { batch } = batches[Number(batchSelect.value)];
    let result;
    try {
      result = explore(batch.trees, withSettings(data.base, settings));
    } catch (e) {
      // e.g. B < 2 typed into the box: say why, keep the last drawing.
      showError((e as Error).message);
      return;
    }
    showError("");
    const { tokens } = result;
    metric("kept", tokens.kept, String(tokens.kept));
    metric("candidates", tokens.candidates, String(tokens.candidates));
    metric("trained-tokens", tokens.trainedTokens, String(tokens.trainedTokens));
    metric("sampled-tokens", tokens.sampledTokens, String(tokens.sampledTokens));
    metric("saved", tokens.savedFraction, percent(tokens.savedFraction));
    metric("zero-signal", result.zeroSignalGroups, percent(result.zeroSignalGroups));
    metric("zero-signal-raw", result.zeroSignalGroupsRaw, percent(result.zeroSignalGroupsRaw));
    $('[data-role="reasons"]').textContent = Object.entries(result.reasons).map(([reason, n]) => `${reason}: ${n}`).join(" · ");
    $('[data-role="provenance"]').textContent = JSON.stringify(batch.header, null, 1);

    const rows = result.scored.map((s, k) => {
      const trained = s.kept.reduce((a, id) => a + s.tree.nodes[id].completionIds.length, 0);
      return `<tr data-task="${escapeText(s.tree.taskId)}" data-kept="${result.keptPerTree[k]}"><td style="text-align:left">${escapeText(s.tree.taskId)}</td><td>${s.tree.nodes.length}</td><td>${result.keptPerTree[k]}</td><td>${trained}</td></tr>`;
    });
    $('[data-role="per-tree"]').innerHTML = `<table><tr><th>task</th><th>candidates</th><th>kept</th><th>trained tokens</th></tr>${rows.join("")}</table>`;

    const tokenFigure = barChart(["no pruning", "these settings"], [{ name: "completion tokens trained", values: [tokens.sampledTokens, tokens.trainedTokens], text: [String(tokens.sampledTokens), String(tokens.trainedTokens)] }], "completion tokens trained", "tokens", { height: 260, showlegend: false, margin: { l: 60, r: 10, t: 40, b: 30 } });
    plotly.react($('[data-role="tokens-figure"]'), tokenFigure.data, tokenFigure.layout, { displaylogo: false, responsive: true });

    const colourByA = control<HTMLSelectElement>("colour").value === "A";
    const range: [number, number] = settings.scale === "std" ? [-2, 2] : [-1, 1];
    const container = $('[data-role="trees"]');
    const drawn = result.scored.slice(0, data.maxTreesDrawn ?? 12);
    while (container.children.length > drawn.length) container.lastElementChild!.remove();
    drawn.forEach((s, k) => {
      let div = container.children[k] as HTMLElement | undefined;
      if (!div) {
        div = document.createElement("div");
        div.className = "mx-tree";
        container.appendChild(div);
      }
      const figure = treeFigure(s.tree, {
        values: colourByA ? s.advantages : s.propagatedRewards,
        valueName: colourByA ? "A" : "R",
        range: colourByA ? range : [0, 1],
        colorscale: colourByA ? ADVANTAGE_COLOURS : undefined,
        dropped: s.reasons.map((r) => r !== "kept"),
        extraHover: s.reasons.map((r, id) => `pruning: ${r}; R = ${s.propagatedRewards[id].toFixed(3)}; A = ${Number.isFinite(s.advantages[id]) ? s.advantages[id].toFixed(3) : "-"}`),
        title: `${s.tree.taskId}: ${s.kept.length} of ${s.tree.nodes.length} kept`,
        height: Math.min(520, Math.max(240, 20 * s.tree.nodes.length + 90)),
      });
      div.dataset.task = s.tree.taskId;
      plotly.react(div, figure.data, figure.layout, { displaylogo: false, responsive: true });
    });
    const note = $('[data-role="note"]');
    note.textContent = `${result.scored.length - drawn.length} more trees are scored (counted above) but not drawn.`;
    note.hidden = result.scored.length === drawn.length;
    renders++;
    root.dataset.renders = String(renders);
  };

  for (const name of ["batch", "strategy", "gamma", "intraPrune", "maxPerGroup", "interPrune", "maxSubtrees", "scale", "colour"]) {
    control(name).addEventListener("input", render);
    control(name).addEventListener("change", render);
  }
  control<HTMLInputElement>("file").addEventListener("change", async (event) => {
    const file = (event.target as HTMLInputElement).files?.[0];
    if (!file) return;
    try {
      addBatch(file.name, parseTreeBatch(await file.text(), file.name));
      render();
    } catch (e) {
      showError((e as Error).message);
    }
  });
  render();
}
