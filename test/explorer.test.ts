/**
 * The pruning explorer (src/explorer/): its settings map onto the run config exactly, and the page,
 * driven in Debian's Chromium through playwright-core, shows the kept counts, trained tokens and
 * zero-signal share that src/murphy computes in Node for the same settings, for the committed
 * batch and for a batch loaded from a file. The page is built into a temporary folder here, from
 * the current sources, so the test never passes on a stale build.
 */
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { makeConfig } from "../src/murphy/config";
import { fracZeroStdGroups } from "../src/murphy/metrics";
import { scoreTree, type ScoreOptions } from "../src/murphy/pipeline";
import { loadTreeBatch } from "../src/murphy/tree-file";
import { formatTreeBatch, TREE_BATCH_FORMAT } from "../src/murphy/tree-jsonl";
import type { RolloutTree } from "../src/murphy/tree";
import { toyTree } from "../src/murphy/toy-tree";
import { baseScoreOptions, ROLLOUTS_DIR, writeExplorerPage } from "../src/explorer/page";
import { explore, settingsOf, withSettings } from "../src/explorer/explore";

const CHROMIUM = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => fs.existsSync(p));
const FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];
const BATCH = path.join(ROLLOUTS_DIR, "base-validation-s1.jsonl");

/** What src/murphy computes in Node for config overrides: kept per tree, tokens, zero-signal share. */
function expected(trees: readonly RolloutTree[], overrides: string[]) {
  const c = makeConfig({}, overrides);
  const options: ScoreOptions = { credit: c.credit, advantage: c.advantage, intraPrune: c.intraPrune, interPrune: c.interPrune };
  const scored = trees.map((t) => scoreTree(t, options));
  const completion = (t: RolloutTree, ids: readonly number[]) => ids.reduce((a, id) => a + t.nodes[id].completionIds.length, 0);
  return {
    keptPerTree: scored.map((s) => s.kept.length),
    kept: scored.reduce((a, s) => a + s.kept.length, 0),
    trainedTokens: scored.reduce((a, s) => a + completion(s.tree, s.kept), 0),
    sampledTokens: trees.reduce((a, t) => a + completion(t, t.nodes.map((n) => n.id)), 0),
    zeroSignal: fracZeroStdGroups(trees, scored.map((s) => s.propagatedRewards), c.intraPrune.zeroVarianceTolerance, c.advantage.group),
  };
}

test("explorer settings override exactly the config fields they name", () => {
  const base = baseScoreOptions();
  const settings = { strategy: "mers", gamma: 0.8, intraPrune: true, maxPerGroup: 3, interPrune: true, maxSubtrees: 1, scale: "none" } as const;
  const c = makeConfig({}, ["credit.strategy=mers", "credit.gamma=0.8", "intraPrune.enabled=true", "intraPrune.maxPerGroup=3", "interPrune.enabled=true", "interPrune.maxSubtrees=1", "advantage.scale=none"]);
  assert.deepEqual(withSettings(base, settings), { credit: c.credit, advantage: c.advantage, intraPrune: c.intraPrune, interPrune: c.interPrune });
  assert.deepEqual(withSettings(base, settingsOf(base)), base);
  const { trees } = loadTreeBatch(BATCH);
  const result = explore(trees, withSettings(base, settings));
  const want = expected(trees, ["credit.strategy=mers", "credit.gamma=0.8", "intraPrune.enabled=true", "intraPrune.maxPerGroup=3", "interPrune.enabled=true", "interPrune.maxSubtrees=1", "advantage.scale=none"]);
  assert.deepEqual(result.keptPerTree, want.keptPerTree);
  assert.equal(result.tokens.trainedTokens, want.trainedTokens);
});

let dir = "";
let browser: Browser | undefined;
let page: Page;

before(async () => {
  if (!CHROMIUM) return;
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "murphy-explorer-"));
  writeExplorerPage(path.join(dir, "explorer.html"), [BATCH]);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
  page = await browser.newPage({ viewport: { width: 1280, height: 1600 } });
});

after(async () => {
  await browser?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** The numbers the page shows, from their data-value attributes. */
async function shown(p: Page) {
  const value = async (name: string) => Number(await p.locator(`[data-metric="${name}"]`).getAttribute("data-value"));
  const rows = await p.locator("tr[data-task]").evaluateAll((trs) => trs.map((tr) => Number((tr as HTMLElement).dataset.kept)));
  return { keptPerTree: rows, kept: await value("kept"), trainedTokens: await value("trained-tokens"), sampledTokens: await value("sampled-tokens"), zeroSignal: await value("zero-signal") };
}

test("the explorer page in Chromium shows what src/murphy computes in Node, after every change of controls", { timeout: 120_000 }, async (t) => {
  if (!browser) return t.skip("chromium is not installed (apt-get install chromium; scripts/setup.sh does it)");
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(`file://${path.join(dir, "explorer.html")}`);
  await page.waitForSelector('[data-metric="kept"][data-value]', { timeout: 30_000 });
  const { trees } = loadTreeBatch(BATCH);

  // The defaults: no pruning, MaRS, gamma 1.
  assert.deepEqual(await shown(page), expected(trees, []));
  assert.equal((await shown(page)).kept, trees.reduce((a, t) => a + t.nodes.length, 0));

  await page.check('[data-control="intraPrune"]');
  await page.check('[data-control="interPrune"]');
  const both = expected(trees, ["intraPrune.enabled=true", "interPrune.enabled=true"]);
  assert.deepEqual(await shown(page), both);
  assert.ok(both.kept < expected(trees, []).kept && both.trainedTokens < both.sampledTokens, "pruning drops something on these trees");

  await page.selectOption('[data-control="strategy"]', "mers");
  await page.fill('[data-control="gamma"]', "0.8");
  await page.fill('[data-control="maxPerGroup"]', "3");
  await page.fill('[data-control="maxSubtrees"]', "1");
  await page.selectOption('[data-control="scale"]', "none");
  const changed = ["credit.strategy=mers", "credit.gamma=0.8", "intraPrune.enabled=true", "intraPrune.maxPerGroup=3", "interPrune.enabled=true", "interPrune.maxSubtrees=1", "advantage.scale=none"];
  assert.deepEqual(await shown(page), expected(trees, changed));
  assert.notDeepEqual(expected(trees, changed), both, "the changed settings give other numbers");

  // Hover text of a drawn tree names each dropped node's prune reason.
  const hover = await page.locator(".mx-tree").evaluateAll((divs) => divs.flatMap((d) => ((d as unknown as { data: { name?: string; hovertext?: string[] }[] }).data ?? []).filter((tr) => tr.name === "dropped").flatMap((tr) => tr.hovertext ?? [])));
  assert.ok(hover.length > 0 && hover.every((h) => /pruning: (inter:subtree-dropped|intra:zero-variance-group|intra:over-budget)/.test(h)), `hover texts: ${hover.slice(0, 2).join(" | ")}`);

  // B = 1 is refused with the kit's reason; the numbers stay those of the last valid setting.
  await page.fill('[data-control="maxPerGroup"]', "1");
  assert.match(await page.locator('[data-role="error"]').innerText(), /maxPerGroup must be an integer >= 2 \(got 1\)/);
  assert.deepEqual(await shown(page), expected(trees, changed));
  await page.fill('[data-control="maxPerGroup"]', "2");
  assert.equal(await page.locator('[data-role="error"]').isHidden(), true);

  // A user's own batch, loaded from a file, is scored the same way.
  const own = [
    toyTree([{ reward: 0, children: [{ reward: 1 }, { reward: 0 }, { reward: 0.5 }] }, { reward: 0.5, children: [{ reward: 0 }, { reward: 0 }, { reward: 0 }] }, { reward: 0 }], "mine-1"),
    toyTree([{ reward: 1 }, { reward: 0.25 }, { reward: 0.25 }, { reward: 0 }], "mine-2"),
  ];
  const file = path.join(dir, "mine.jsonl");
  fs.writeFileSync(file, formatTreeBatch({ header: { format: TREE_BATCH_FORMAT, version: 1 }, trees: own }));
  await page.setInputFiles('[data-control="file"]', file);
  await page.waitForFunction(() => document.querySelectorAll("tr[data-task]").length === 2);
  assert.deepEqual(await shown(page), expected(own, [...changed.filter((s) => !s.startsWith("intraPrune.maxPerGroup")), "intraPrune.maxPerGroup=2"]));
  assert.deepEqual(await page.locator("tr[data-task]").evaluateAll((trs) => trs.map((tr) => (tr as HTMLElement).dataset.task)), ["mine-1", "mine-2"]);

  // A broken file is refused with its name and line; the loaded batch stays.
  const bad = path.join(dir, "bad.jsonl");
  fs.writeFileSync(bad, `{"format": "${TREE_BATCH_FORMAT}", "version": 1}\n{"taskId": "x", "nodes": [{"id": 0}]}\n`);
  await page.setInputFiles('[data-control="file"]', bad);
  await page.waitForFunction(() => !(document.querySelector('[data-role="error"]') as HTMLElement).hidden);
  assert.match(await page.locator('[data-role="error"]').innerText(), /bad\.jsonl line 2: tree "x" nodes\[0\]\.parent must be an integer or null/);
  assert.deepEqual(errors, [], "no uncaught errors in the page");
});
