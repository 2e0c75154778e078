/**
 * Output comparison for stdin/stdout tests, as LiveCodeBench's evaluator compares: both texts
 * are stripped and split into lines, each line stripped; the line counts must agree; each pair of
 * lines must be equal, or else split into whitespace-separated tokens that are all numbers and
 * equal as exact decimals ("1.50" equals "1.5", "1e3" equals "1000"; no tolerance).
 */

/** A decimal token as sign, digits without leading/trailing zeros, and a power of ten. */
interface Decimal {
  negative: boolean;
  digits: string;
  exponent: number;
  infinite: boolean;
}

const DECIMAL = /^([+-]?)(?:(\d+)(?:\.(\d*))?|\.(\d+))(?:[eE]([+-]?\d+))?$/;
const INFINITY = /^([+-]?)(?:inf|infinity)$/i;

export function parseDecimal(token: string): Decimal | null {
  const cleaned = token.replace(/_/g, "");
  const infinite = INFINITY.exec(cleaned);
  if (infinite) return { negative: infinite[1] === "-", digits: "", exponent: 0, infinite: true };
  const match = DECIMAL.exec(cleaned);
  if (!match) return null;
  const whole = match[2] ?? "";
  const fraction = match[3] ?? match[4] ?? "";
  let digits = (whole + fraction).replace(/^0+/, "");
  let exponent = Number(match[5] ?? "0") - fraction.length;
  const trailing = digits.length - digits.replace(/0+$/, "").length;
  digits = digits.slice(0, digits.length - trailing);
  exponent += trailing;
  if (digits === "") return { negative: false, digits: "", exponent: 0, infinite: false };
  return { negative: match[1] === "-", digits, exponent, infinite: false };
}

function decimalsEqual(a: Decimal, b: Decimal): boolean {
  return a.infinite === b.infinite && a.negative === b.negative && a.digits === b.digits && a.exponent === b.exponent;
}

function strippedLines(text: string): string[] {
  return text.trim().split("\n").map((line) => line.trim());
}

function lineMatches(got: string, expected: string): boolean {
  if (got === expected) return true;
  const a = got.split(/\s+/).filter((t) => t !== "");
  const b = expected.split(/\s+/).filter((t) => t !== "");
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = parseDecimal(a[i]);
    const y = parseDecimal(b[i]);
    if (x === null || y === null || !decimalsEqual(x, y)) return false;
  }
  return true;
}

/** True when a program's `output` counts as the `expected` output. */
export function outputMatches(output: string, expected: string): boolean {
  const got = strippedLines(output);
  const want = strippedLines(expected);
  return got.length === want.length && got.every((line, i) => lineMatches(line, want[i]));
}
