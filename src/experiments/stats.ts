/**
 * Statistics for results over seeds: mean, sample standard deviation, and the 95% confidence
 * interval of the mean by Student's t with n - 1 degrees of freedom,
 *
 *   mean +- t_{0.975, n-1} * s / sqrt(n),   s = sqrt(sum (x - mean)^2 / (n - 1)).
 *
 * With 3 seeds t_{0.975, 2} = 4.303, so intervals are wide: that is the honest width of 3 seeds.
 * The t quantile comes from stdlib rather than a table, so any number of seeds works. Pure
 * functions over plain numbers.
 */
import tQuantile from "@stdlib/stats-base-dists-t-quantile";

/** Arithmetic mean; NaN for an empty list. */
export function mean(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  let total = 0;
  for (const v of values) total += v;
  return total / values.length;
}

/** Sample standard deviation (divides by n - 1); NaN for fewer than 2 values. */
export function sampleStd(values: readonly number[]): number {
  if (values.length < 2) return NaN;
  const m = mean(values);
  let squares = 0;
  for (const v of values) squares += (v - m) ** 2;
  return Math.sqrt(squares / (values.length - 1));
}

/**
 * The p-quantile of Student's t with `dof` > 0 degrees of freedom (p in (0, 1)), from stdlib
 * (@stdlib/stats-base-dists-t-quantile: the inverse of the regularized incomplete beta), with the
 * kit's argument checks (stdlib answers NaN or Infinity instead of refusing).
 */
export function studentTQuantile(p: number, dof: number): number {
  if (!(p > 0 && p < 1)) throw new Error(`studentTQuantile: p must be in (0, 1) (got ${p})`);
  if (!(dof > 0)) throw new Error(`studentTQuantile: dof must be > 0 (got ${dof})`);
  return tQuantile(p, dof);
}

export interface ConfidenceInterval {
  n: number;
  mean: number;
  /** Sample standard deviation (NaN when n < 2). */
  std: number;
  /** t_{0.975, n-1} * std / sqrt(n); NaN when n < 2 (one seed says nothing about spread). */
  halfWidth: number;
  low: number;
  high: number;
}

/** Mean and two-sided confidence interval (default 95%) by Student's t with n - 1 dof. */
export function tInterval(values: readonly number[], level = 0.95): ConfidenceInterval {
  const n = values.length;
  const m = mean(values);
  const std = sampleStd(values);
  const halfWidth = n >= 2 ? studentTQuantile(1 - (1 - level) / 2, n - 1) * (std / Math.sqrt(n)) : NaN;
  return { n, mean: m, std, halfWidth, low: m - halfWidth, high: m + halfWidth };
}
