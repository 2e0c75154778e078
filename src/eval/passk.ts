/**
 * Pass@k numbers for the sequential self-correction evaluation.
 *
 * Iter-k pass@1: the fraction of tasks solved within k sequential turns (one sample per turn, each
 * turn seeing the previous feedback), averaged over the n independent chains run per task.
 * pass@k: the unbiased estimator 1 - C(n-c, k) / C(n, k) of the chance that at least one of k
 * chains solves the task, from c solved chains out of n (Chen et al. 2021, the HumanEval paper).
 */

/** Unbiased pass@k from n samples of which c are correct; computed as a stable product. */
export function passAtK(n: number, c: number, k: number): number {
  if (!(Number.isInteger(n) && Number.isInteger(c) && Number.isInteger(k)) || n < 1 || c < 0 || c > n || k < 1 || k > n) {
    throw new Error(`passAtK needs integers 0 <= c <= n and 1 <= k <= n (got n=${n}, c=${c}, k=${k})`);
  }
  if (n - c < k) return 1;
  // C(n-c, k) / C(n, k) = prod_{i=n-c+1}^{n} (1 - k / i)
  let fail = 1;
  for (let i = n - c + 1; i <= n; i++) fail *= 1 - k / i;
  return 1 - fail;
}

/**
 * `solvedAtTurn[task][chain]` is the 1-based turn at which that chain first solved the task, or 0
 * if it never did within `turns`. Returns Iter-1..Iter-turns pass@1 (averaged over chains, then
 * tasks) and, for each Iter-j, pass@k for k = 1..n by the unbiased estimator.
 */
export function iterPassRates(solvedAtTurn: readonly (readonly number[])[], turns: number): { iterPass1: number[]; passAtK: number[][] } {
  if (solvedAtTurn.length === 0) throw new Error("iterPassRates needs at least one task");
  const n = solvedAtTurn[0].length;
  if (n < 1 || solvedAtTurn.some((chains) => chains.length !== n)) throw new Error("every task needs the same number (>= 1) of chains");
  const iterPass1: number[] = [];
  const passAtKTable: number[][] = [];
  for (let j = 1; j <= turns; j++) {
    const perK = new Array(n).fill(0);
    let pass1 = 0;
    for (const chains of solvedAtTurn) {
      const c = chains.filter((t) => t > 0 && t <= j).length;
      pass1 += c / n;
      for (let k = 1; k <= n; k++) perK[k - 1] += passAtK(n, c, k);
    }
    iterPass1.push(pass1 / solvedAtTurn.length);
    passAtKTable.push(perK.map((x) => x / solvedAtTurn.length));
  }
  return { iterPass1, passAtK: passAtKTable };
}
