/**
 * Structural checks on a rollout tree, shared by every MURPHY stage that walks one. A tree built by
 * hand in a notebook (or read back from a log) can be inconsistent; catching that here gives an
 * error that names the task and node instead of a wrong number three stages later.
 */
import type { RolloutTree } from "./tree";

/**
 * Throws if `tree` is not a well-formed rollout tree:
 * - `nodes[i].id === i`;
 * - every child index exists, names this node as its parent, and sits one turn deeper;
 * - every node with a parent is listed among that parent's children, exactly once;
 * - turn-1 nodes have no parent, deeper nodes have one;
 * - rewards are finite numbers in [0, 1].
 * Cycles are impossible once these hold (turns strictly increase along every edge).
 */
export function checkTree(tree: RolloutTree): void {
  const where = `tree "${tree.taskId}"`;
  const nodes = tree.nodes;
  const listedBy = new Array<number>(nodes.length).fill(-1);
  for (let i = 0; i < nodes.length; i++) {
    const node = nodes[i];
    if (node.id !== i) throw new Error(`${where}: nodes[${i}].id must equal its index ${i} (got ${node.id})`);
    if (!Number.isFinite(node.reward) || node.reward < 0 || node.reward > 1) {
      throw new Error(`${where}: node ${i} reward must be a number in [0, 1] (got ${node.reward})`);
    }
    if (!Number.isInteger(node.turn) || node.turn < 1) {
      throw new Error(`${where}: node ${i} turn must be an integer >= 1 (got ${node.turn})`);
    }
    if ((node.parent === null) !== (node.turn === 1)) {
      throw new Error(`${where}: node ${i} has turn ${node.turn} and parent ${node.parent}; turn-1 nodes and only they have parent null`);
    }
    for (const c of node.children) {
      if (!Number.isInteger(c) || c < 0 || c >= nodes.length) {
        throw new Error(`${where}: node ${i} lists child ${c}, which is not a node index (0..${nodes.length - 1})`);
      }
      if (nodes[c].parent !== i) throw new Error(`${where}: node ${i} lists child ${c}, whose parent is ${nodes[c].parent}`);
      if (nodes[c].turn !== node.turn + 1) {
        throw new Error(`${where}: node ${c} is a child of node ${i} (turn ${node.turn}) so its turn must be ${node.turn + 1} (got ${nodes[c].turn})`);
      }
      if (listedBy[c] !== -1) throw new Error(`${where}: node ${c} is listed as a child more than once`);
      listedBy[c] = i;
    }
  }
  for (const node of nodes) {
    if (node.parent !== null && listedBy[node.id] !== node.parent) {
      throw new Error(`${where}: node ${node.id} has parent ${node.parent}, which does not list it among its children`);
    }
  }
}
