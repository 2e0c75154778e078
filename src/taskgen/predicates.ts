/**
 * Integer predicates ("even", "greater than 3"), shared by the operations that test numbers:
 * filters, counts, conditionals and checks. Each has the three word forms those operations need,
 * so "even" reads the same everywhere: "keep the even elements", "add 3 to each even element",
 * "add 3 if even", "check if every element is even".
 */
import { type Expr, PREC, binary, expr, operand } from "./expr";
import { type ArgSpec, type ArgValue, range } from "./ops";

export interface Predicate {
  name: string;
  args: readonly ArgSpec[];
  /** "even elements", "elements greater than 3" (after "keep the", "count the"). */
  plural: (a: readonly string[]) => string;
  /** "each even element", "each element greater than 3" (inside element-wise conditionals). */
  each: (a: readonly string[]) => string;
  /** "even", "greater than 3" (after "if", "check if", "every element is"). */
  is: (a: readonly string[]) => string;
  code: (e: Expr, a: readonly string[]) => Expr;
  test: (v: number, a: readonly ArgValue[]) => boolean;
}

/** Constants compared against: small enough to occur in inputs drawn from -20..20. */
const THRESHOLDS: ArgSpec = { type: "int", values: range(-5, 5), param: true };

function remainderIsZero(e: Expr, divisor: string): Expr {
  const rest = expr(`${operand(e, PREC.multiplicative)}%${divisor}`, PREC.multiplicative);
  return binary(rest, "==", "0", PREC.equality);
}

export const EVEN: Predicate = {
  name: "even",
  args: [],
  plural: () => "even elements",
  each: () => "each even element",
  is: () => "even",
  code: (e) => remainderIsZero(e, "2"),
  test: (v) => v % 2 === 0,
};

export const ODD: Predicate = {
  name: "odd",
  args: [],
  plural: () => "odd elements",
  each: () => "each odd element",
  is: () => "odd",
  // `!=0` rather than `==1`: the remainder of a negative odd number is -1 in JavaScript.
  code: (e) => binary(expr(`${operand(e, PREC.multiplicative)}%2`, PREC.multiplicative), "!=", "0", PREC.equality),
  test: (v) => v % 2 !== 0,
};

export const POSITIVE: Predicate = {
  name: "positive",
  args: [],
  plural: () => "positive elements",
  each: () => "each positive element",
  is: () => "positive",
  code: (e) => binary(e, ">", "0", PREC.relational),
  test: (v) => v > 0,
};

export const NEGATIVE: Predicate = {
  name: "negative",
  args: [],
  plural: () => "negative elements",
  each: () => "each negative element",
  is: () => "negative",
  code: (e) => binary(e, "<", "0", PREC.relational),
  test: (v) => v < 0,
};

export const GREATER: Predicate = {
  name: "greater",
  args: [THRESHOLDS],
  plural: ([c]) => `elements greater than ${c}`,
  each: ([c]) => `each element greater than ${c}`,
  is: ([c]) => `greater than ${c}`,
  code: (e, [c]) => binary(e, ">", c, PREC.relational),
  test: (v, [c]) => v > (c as number),
};

export const LESS: Predicate = {
  name: "less",
  args: [THRESHOLDS],
  plural: ([c]) => `elements less than ${c}`,
  each: ([c]) => `each element less than ${c}`,
  is: ([c]) => `less than ${c}`,
  code: (e, [c]) => binary(e, "<", c, PREC.relational),
  test: (v, [c]) => v < (c as number),
};

export const MULTIPLE: Predicate = {
  name: "multiple",
  args: [{ type: "int", values: range(3, 5) }],
  plural: ([c]) => `multiples of ${c}`,
  each: ([c]) => `each multiple of ${c}`,
  is: ([c]) => `a multiple of ${c}`,
  code: (e, [c]) => remainderIsZero(e, c),
  test: (v, [c]) => v % (c as number) === 0,
};

export const EQUAL: Predicate = {
  name: "equal",
  args: [{ type: "int", values: range(-5, 9), param: true }],
  plural: ([c]) => `elements equal to ${c}`,
  each: ([c]) => `each element equal to ${c}`,
  is: ([c]) => `equal to ${c}`,
  code: (e, [c]) => binary(e, "==", c, PREC.equality),
  test: (v, [c]) => v === c,
};

/** Predicates for filters, conditionals and every/some checks. */
export const SELECTING_PREDICATES: readonly Predicate[] = [EVEN, ODD, POSITIVE, NEGATIVE, GREATER, LESS, MULTIPLE];

/** Predicates for counts and scalar checks ("count the elements equal to 3" is useful, keeping them is not). */
export const ALL_PREDICATES: readonly Predicate[] = [...SELECTING_PREDICATES, EQUAL];
