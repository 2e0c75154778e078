/**
 * The plot specs and HTML builders of src/viz, as pure functions: golden values worked out by hand.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { barChart, lineChart, withAlpha } from "../src/viz/figure";
import { hoverEscape, treeFigure, treeLayout, wrapLines } from "../src/viz/tree";
import { logprobChangeFigure } from "../src/viz/update";
import { figureHtml, figureRowHtml, plotlyBundleHtml, scriptJson, tableHtml } from "../src/viz/html";
import { toyTree } from "../src/murphy/toy-tree";

// Task -> [0 (r=0) -> [2 (r=1), 3 (r=0)], 1 (r=0.5)]; ids breadth-first.
const tree = toyTree([{ reward: 0, children: [{ reward: 1 }, { reward: 0 }] }, { reward: 0.5 }]);

test("treeLayout: leaves take rows in depth-first order, parents sit at their children's mean row", () => {
  const { nodes, root } = treeLayout(tree);
  // Depth-first leaves: 2 -> row 0, 3 -> row 1, 1 -> row 2; node 0 at (0 + 1) / 2; the task at mean(0.5, 2).
  assert.deepEqual(nodes, [{ x: 1, y: 0.5 }, { x: 1, y: 2 }, { x: 2, y: 0 }, { x: 2, y: 1 }]);
  assert.deepEqual(root, { x: 0, y: 1.25 });
});

test("treeFigure: one edge per candidate, markers coloured by the given values, pruned nodes apart", () => {
  const fig = treeFigure(tree, { values: [1, 0.5, 1, 0], valueName: "R", dropped: [false, false, false, true], extraHover: ["", "", "", "reason: x<y"] });
  const [edges, droppedEdges, kept, task, dropped] = fig.data as Record<string, unknown>[];
  // Kept edges: task->0, task->1, 0->2 (3 segments of 3 points each, nulls between).
  assert.deepEqual(edges.x, [0, 1, null, 0, 1, null, 1, 2, null]);
  assert.deepEqual(droppedEdges.x, [1, 2, null]);
  assert.deepEqual(kept.x, [1, 1, 2]);
  assert.deepEqual((kept.marker as { color: number[] }).color, [1, 0.5, 1]);
  assert.deepEqual(task.y, [1.25]);
  assert.deepEqual(dropped.x, [2]);
  assert.match((dropped.hovertext as string[])[0], /reason: x&lt;y/);
  assert.throws(() => treeFigure(tree, { values: [1, 2] }), /has 4 nodes but 2 values/);
});

test("hover text escapes markup and keeps line breaks; long lines wrap", () => {
  assert.equal(hoverEscape("a<b && c>d\nnext"), "a&lt;b &amp;&amp; c&gt;d<br>next");
  assert.equal(wrapLines("abcdefg", 3), "abc\ndef\ng");
});

test("lineChart: the band is one closed polygon, upper edge forward and lower edge back", () => {
  const fig = lineChart([{ name: "a", x: [1, 2, 3], y: [0.2, 0.3, 0.4], band: { lower: [0.1, 0.2, 0.3], upper: [0.3, 0.4, 0.5] } }], "t", "x", "y");
  assert.equal(fig.data.length, 2);
  assert.deepEqual(fig.data[0].x, [1, 2, 3, 3, 2, 1]);
  assert.deepEqual(fig.data[0].y, [0.3, 0.4, 0.5, 0.3, 0.2, 0.1]);
  assert.equal(fig.data[0].fillcolor, "rgba(0,114,178,0.18)");
  assert.throws(() => lineChart([{ name: "b", x: [1, 2], y: [1] }], "t", "x", "y"), /series "b" has 2 x values but 1 y values/);
  assert.equal(withAlpha("#D55E00", 0.5), "rgba(213,94,0,0.5)");
  assert.throws(() => barChart(["a", "b"], [{ name: "g", values: [1] }], "t", "y"), /group "g" has 1 values for 2 categories/);
});

test("figureHtml: a murphy-figure div and a script whose JSON cannot close the script element", () => {
  const html = figureHtml({ data: [{ type: "scatter", x: [1], y: [2], text: ["</script><b>"] }], layout: {} }, "fig-1");
  assert.ok(html.startsWith('<div class="murphy-figure" id="fig-1"'));
  assert.equal(html.match(/<\/script>/g)!.length, 1, "only the script's own closing tag");
  assert.equal(JSON.parse(scriptJson("</script>").replace(/\\u003c/g, "<")), "</script>");
  assert.throws(() => figureHtml({ data: [], layout: {} }, "bad id"), /id must be/);
  assert.equal(figureRowHtml([{ data: [], layout: {} }, { data: [], layout: {} }], "row").match(/class="murphy-figure"/g)!.length, 2);
  const bundle = plotlyBundleHtml();
  assert.ok(bundle.length > 500_000 && bundle.includes("window.Plotly = Plotly"), "the inline bundle defines window.Plotly");
  assert.equal(bundle.match(/<\/script/gi)!.length, 1);
});

test("tableHtml: arquero table, strings escaped once, limit noted, unknown column named", () => {
  const html = tableHtml([{ code: "(a) => a < 1", r: 0.123456 }, { code: "x", r: 1 }], { digits: 2, limit: 1 });
  assert.match(html, /\(a\) =&gt; a &lt; 1/);
  assert.match(html, /0\.12/);
  assert.match(html, /1 more rows not shown/);
  assert.throws(() => tableHtml([{ a: 1 }], { columns: ["b"] }), /row 0 has no column "b"/);
});

test("logprobChangeFigure: after - before against A, one trace per sign of A", () => {
  const fig = logprobChangeFigure([
    { advantage: 1.5, before: -2, after: -1.9, label: "a" },
    { advantage: -0.5, before: -1, after: -1.25, label: "b" },
    { advantage: 0.5, before: -3, after: -3, label: "c" },
  ]);
  assert.deepEqual(fig.data.map((t) => t.name), ["A > 0 (pushed up): 2", "A < 0 (pushed down): 1"]);
  assert.deepEqual(fig.data[0].x, [1.5, 0.5]);
  assert.ok(Math.abs((fig.data[0].y as number[])[0] - 0.1) < 1e-12);
  assert.deepEqual(fig.data[0].text, ["a", "c"]);
  assert.deepEqual(fig.data[1].y, [-0.25]);
});
