/**
 * JavaScript expressions built piece by piece, with just enough knowledge of operator precedence
 * to add parentheses where they are needed and nowhere else. A composed task's reference is one
 * expression: each operation wraps the expression built so far (`xs` -> `xs.map(v=>v+3)` ->
 * `xs.map(v=>v+3).filter(v=>v%2==0)`), so the program reads in the order of the description.
 */

/** Precedence levels of the JavaScript operators the task suite uses (higher binds tighter). */
export const PREC = {
  primary: 20, // identifiers, literals, calls, member access, array literals
  unary: 15, // a negative literal such as -3
  exponent: 14,
  multiplicative: 13,
  additive: 12,
  relational: 10,
  equality: 9,
  conditional: 2,
} as const;

/** An expression under construction. */
export interface Expr {
  code: string;
  /** Precedence of the expression's outermost operator (PREC.primary for a plain name). */
  prec: number;
  /**
   * True for a bare parameter name. Operations that mention their operand twice (a conditional
   * `x%2==0?x+3:x`, a palindrome check) only apply to such names, so no work is ever repeated and
   * references stay short.
   */
  simple: boolean;
}

/** A parameter or lambda variable. */
export function variable(name: string): Expr {
  return { code: name, prec: PREC.primary, simple: true };
}

/** An expression whose outermost operator has precedence `prec`. */
export function expr(code: string, prec: number): Expr {
  return { code, prec, simple: false };
}

/** The code of `e`, parenthesised if its operator binds more loosely than `min`. */
export function operand(e: Expr, min: number): string {
  return e.prec >= min ? e.code : `(${e.code})`;
}

/** `e.rest`, e.g. method(e, "map(v=>v+1)"): member access binds tightest. */
export function method(e: Expr, rest: string): Expr {
  return expr(`${operand(e, PREC.primary)}.${rest}`, PREC.primary);
}

/**
 * `left op right` for a left-associative operator of precedence `prec`; `right` is a literal or
 * a name (the suite never puts a compound expression on the right).
 */
export function binary(left: Expr, op: string, right: string, prec: number): Expr {
  return expr(`${operand(left, prec)}${op}${right}`, prec);
}
