/**
 * Operations on one integer: arithmetic ("add 3"), conditions and clamps ("clamp to -5..5",
 * "add 3 if even") and checks ("check if even"). The arithmetic and clamps are written once as
 * scalar steps and reused element-wise by ops-arrays.ts ("add 3 to each element").
 */
import { type Expr, PREC, binary, expr, operand } from "./expr";
import { type ArgSpec, type ArgValue, type Op, defineOp, range } from "./ops";
import { ALL_PREDICATES, type Predicate, SELECTING_PREDICATES } from "./predicates";

/** One step on a number, usable on its own or on each element of an array. */
export interface Scalar {
  name: string;
  family: "arith" | "condition";
  args: readonly ArgSpec[];
  /** Operations of one group never follow each other ("add 3, then subtract 2" is just "add 1"). */
  group: string;
  /** `target` is null for a number ("add 3") or names elements ("add 3 to each even element"). */
  say: (a: readonly string[], target: string | null) => string;
  code: (e: Expr, a: readonly string[]) => Expr;
  run: (v: number, a: readonly ArgValue[]) => number;
}

/** Offsets added or subtracted; positive, so code never reads `x+-3`. */
const OFFSETS: ArgSpec = { type: "int", values: range(1, 9), param: true };
/** Bounds of "raise to at least" and "cap at". */
const BOUNDS: ArgSpec = { type: "int", values: range(-5, 5), param: true };

export const ADD: Scalar = {
  name: "add",
  family: "arith",
  args: [OFFSETS],
  group: "shift",
  say: ([c], t) => (t ? `add ${c} to ${t}` : `add ${c}`),
  code: (e, [c]) => binary(e, "+", c, PREC.additive),
  run: (v, [c]) => v + (c as number),
};

export const SUBTRACT: Scalar = {
  name: "sub",
  family: "arith",
  args: [OFFSETS],
  group: "shift",
  say: ([c], t) => (t ? `subtract ${c} from ${t}` : `subtract ${c}`),
  code: (e, [c]) => binary(e, "-", c, PREC.additive),
  run: (v, [c]) => v - (c as number),
};

// Multipliers are positive: a negative one would turn 0 into -0, which JSON cannot carry.
export const MULTIPLY: Scalar = {
  name: "mul",
  family: "arith",
  args: [{ type: "int", values: range(2, 5) }],
  group: "mul",
  say: ([c], t) => (t ? `multiply ${t} by ${c}` : `multiply by ${c}`),
  code: (e, [c]) => binary(e, "*", c, PREC.multiplicative),
  run: (v, [c]) => v * (c as number),
};

export const SQUARE: Scalar = {
  name: "square",
  family: "arith",
  args: [],
  group: "square",
  say: (_a, t) => (t ? `square ${t}` : "square it"),
  // The left side of ** may not be a unary expression, so anything but a name is parenthesised.
  code: (e) => expr(`${operand(e, PREC.primary)}**2`, PREC.exponent),
  run: (v) => v ** 2,
};

export const ABSOLUTE: Scalar = {
  name: "abs",
  family: "arith",
  args: [],
  group: "abs",
  say: (_a, t) => (t ? `take the absolute value of ${t}` : "take the absolute value"),
  code: (e) => expr(`Math.abs(${e.code})`, PREC.primary),
  run: (v) => Math.abs(v),
};

// Division rounds down (toward minus infinity), which keeps results integers and never gives -0.
export const DIVIDE: Scalar = {
  name: "div",
  family: "arith",
  args: [{ type: "int", values: range(2, 4) }],
  group: "div",
  say: ([c], t) => (t ? `divide ${t} by ${c} rounding down` : `divide by ${c} rounding down`),
  code: (e, [c]) => expr(`Math.floor(${operand(e, PREC.multiplicative)}/${c})`, PREC.primary),
  run: (v, [c]) => Math.floor(v / (c as number)),
};

export const CLAMP: Scalar = {
  name: "clamp",
  family: "condition",
  args: [
    { type: "int", values: range(-10, 0) },
    { type: "int", values: range(1, 10) },
  ],
  group: "bound",
  say: ([lo, hi], t) => (t ? `clamp ${t} to ${lo}..${hi}` : `clamp to ${lo}..${hi}`),
  code: (e, [lo, hi]) => expr(`Math.min(Math.max(${e.code},${lo}),${hi})`, PREC.primary),
  run: (v, [lo, hi]) => Math.min(Math.max(v, lo as number), hi as number),
};

export const AT_LEAST: Scalar = {
  name: "atleast",
  family: "condition",
  args: [BOUNDS],
  group: "bound",
  say: ([c], t) => (t ? `raise ${t} to at least ${c}` : `raise to at least ${c}`),
  code: (e, [c]) => expr(`Math.max(${e.code},${c})`, PREC.primary),
  run: (v, [c]) => Math.max(v, c as number),
};

export const AT_MOST: Scalar = {
  name: "atmost",
  family: "condition",
  args: [BOUNDS],
  group: "bound",
  say: ([c], t) => (t ? `cap ${t} at ${c}` : `cap at ${c}`),
  code: (e, [c]) => expr(`Math.min(${e.code},${c})`, PREC.primary),
  run: (v, [c]) => Math.min(v, c as number),
};

export const ARITH_SCALARS: readonly Scalar[] = [ADD, SUBTRACT, MULTIPLY, SQUARE, ABSOLUTE, DIVIDE];
export const BOUND_SCALARS: readonly Scalar[] = [CLAMP, AT_LEAST, AT_MOST];
/** What a conditional may do to the values it selects ("add 3 if even"). */
export const CONDITIONAL_BODIES: readonly Scalar[] = [ADD, SUBTRACT, MULTIPLY, SQUARE, DIVIDE];

/**
 * Conditionals are many small variants (predicate x body); each gets this weight so that all of
 * them together are drawn about as often as three ordinary operations.
 */
export const CONDITIONAL_WEIGHT = 3 / (SELECTING_PREDICATES.length * CONDITIONAL_BODIES.length);

/** Splits a conditional's arguments into the predicate's and the body's. */
export function splitArgs<T>(pred: Predicate, a: readonly T[]): [T[], T[]] {
  return [a.slice(0, pred.args.length), a.slice(pred.args.length)];
}

function scalarOp(s: Scalar): Op {
  return defineOp<number, number>({
    name: s.name,
    family: s.family,
    from: "int",
    to: "int",
    args: s.args,
    group: s.group,
    say: (a) => s.say(a, null),
    code: s.code,
    run: s.run,
  });
}

/** "add 3 if even": x%2==0?x+3:x. */
function conditionalOp(pred: Predicate, body: Scalar): Op {
  return defineOp<number, number>({
    name: `if_${pred.name}_${body.name}`,
    family: "condition",
    from: "int",
    to: "int",
    args: [...pred.args, ...body.args],
    group: "if",
    weight: CONDITIONAL_WEIGHT,
    needsSimple: true,
    say: (a) => {
      const [p, b] = splitArgs(pred, a);
      return `${body.say(b, null)} if ${pred.is(p)}`;
    },
    code: (e, a) => {
      const [p, b] = splitArgs(pred, a);
      return expr(`${pred.code(e, p).code}?${body.code(e, b).code}:${e.code}`, PREC.conditional);
    },
    run: (v, a) => {
      const [p, b] = splitArgs(pred, a);
      return pred.test(v, p) ? body.run(v, b) : v;
    },
  });
}

function checkOp(pred: Predicate): Op {
  return defineOp<number, boolean>({
    name: `is_${pred.name}`,
    family: "check",
    from: "int",
    to: "bool",
    args: pred.args,
    group: "check",
    say: (a) => `check if ${pred.is(a)}`,
    code: (e, a) => pred.code(e, a),
    run: (v, a) => pred.test(v, a),
  });
}

export const NUMBER_OPS: readonly Op[] = [
  ...ARITH_SCALARS.map(scalarOp),
  ...BOUND_SCALARS.map(scalarOp),
  ...SELECTING_PREDICATES.flatMap((p) => CONDITIONAL_BODIES.map((b) => conditionalOp(p, b))),
  ...ALL_PREDICATES.map(checkOp),
];
