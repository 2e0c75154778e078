/**
 * The feedback suite's families: tasks whose description withholds one part of the
 * specification, so a first attempt can only guess it, while a failing visible test's feedback
 * ("expected ..., got ...") shows it. A task is a visible prefix of 0-2 ordinary operations from
 * the kit's grammar (ops.ts: "keep the even elements") followed by one hidden step whose words
 * name the choice but not the value taken ("add the hidden number (1 to 6) to each element").
 *
 * Each family lists the possible values of its withheld part (`options`). For one description the
 * suite holds one task per option, with the same visible and hidden inputs; each visible input
 * tells every option apart (tests.ts). So a program written from the description alone passes
 * all visible tests of at most one task in each such group, and its first-attempt pass rate on
 * the family is at most 1/|options|, its chance level, while the first failing visible test's
 * expected value names the option.
 */
import { type Expr, PREC, binary, expr, method, operand } from "../expr";
import { type Kind, type Op, type Signature, defineOp } from "../ops";

export const FEEDBACK_FAMILY_NAMES = ["offset", "direction", "answer_format", "number_format", "separator"] as const;
export type FeedbackFamilyName = (typeof FEEDBACK_FAMILY_NAMES)[number];

export interface FeedbackFamily {
  name: FeedbackFamilyName;
  /** Which of the three kinds of withheld specification this family is. */
  kind: "unstated constant" | "unstated choice of behaviour" | "unstated output format";
  /** What the description leaves out. */
  withheld: string;
  /** How the feedback of a failing visible test shows it. */
  revealedBy: string;
  /** The name of the withheld part in a task's `withheld` field: "<label> = <option>". */
  label: string;
  /** Every value the withheld part can take, in words. */
  options: readonly string[];
  /** The signatures the family uses, with the kind of value its hidden step takes. */
  inputs: Partial<Record<Signature, Kind>>;
  /** The hidden step applied to a value of `kind`, with the option numbered `option`. */
  step: (kind: Kind, option: number) => Op;
  /**
   * A condition on the value that reaches the hidden step in the FIRST visible test (the one the
   * feedback of any description-only attempt describes): the offset family wants 0 there, so
   * the expected value shows the hidden number itself rather than a sum.
   */
  firstVisible?: (beforeHiddenStep: unknown) => boolean;
}

/** The chance level of a family: the first-attempt pass rate of a guess among its options. */
export function chanceLevel(family: FeedbackFamily): number {
  return 1 / family.options.length;
}

function unknownKind(family: string, kind: Kind): never {
  throw new Error(`feedback family ${family}: no hidden step on a value of kind ${kind}`);
}

const OFFSETS = [1, 2, 3, 4, 5, 6];

const offset: FeedbackFamily = {
  name: "offset",
  kind: "unstated constant",
  withheld: "the number added (1 to 6)",
  revealedBy:
    "the first visible input reaches the hidden step as 0 (or a list starting with 0), so the expected value of the first failing visible test shows the number itself",
  label: "hidden number",
  options: OFFSETS.map(String),
  inputs: { "(x)": "int", "(xs)": "ints" },
  step: (kind, option) => {
    const w = OFFSETS[option];
    if (kind === "int") {
      return defineOp<number, number>({
        name: `hidden_add_${w}`, family: "arith", from: "int", to: "int", group: "shift",
        say: () => "add the hidden number (1 to 6)",
        code: (e) => binary(e, "+", String(w), PREC.additive),
        run: (x) => x + w,
      });
    }
    if (kind === "ints") {
      return defineOp<number[], number[]>({
        name: `hidden_map_add_${w}`, family: "map", from: "ints", to: "ints", group: "map_shift",
        say: () => "add the hidden number (1 to 6) to each element",
        code: (e) => method(e, `map(v=>v+${w})`),
        run: (xs) => xs.map((v) => v + w),
      });
    }
    return unknownKind("offset", kind);
  },
  firstVisible: (value) => value === 0 || (Array.isArray(value) && value[0] === 0),
};

const DIRECTIONS = ["ascending", "descending"];

const direction: FeedbackFamily = {
  name: "direction",
  kind: "unstated choice of behaviour",
  withheld: "whether to sort ascending or descending",
  revealedBy: "the expected value of a failing visible test is sorted the other way than the attempt's answer (every visible input has two different values to sort)",
  label: "order",
  options: DIRECTIONS,
  inputs: { "(xs)": "ints", "(s)": "str" },
  step: (kind, option) => {
    const down = option === 1;
    if (kind === "ints") {
      return defineOp<number[], number[]>({
        name: `hidden_sort_${DIRECTIONS[option]}`, family: "order", from: "ints", to: "ints", group: "order",
        say: () => "sort ascending or descending, as the tests expect",
        code: (e) => expr(`[...${e.code}].sort((a,b)=>${down ? "b-a" : "a-b"})`, PREC.primary),
        run: (xs) => [...xs].sort((a, b) => (down ? b - a : a - b)),
      });
    }
    if (kind === "str") {
      return defineOp<string, string>({
        name: `hidden_sort_letters_${DIRECTIONS[option]}`, family: "order", from: "str", to: "str", group: "order",
        // As the kit's "sort the letters": capitals would sort before every lowercase letter.
        lowercaseOnly: true,
        say: () => "sort the letters ascending or descending, as the tests expect",
        code: (e) => expr(`[...${e.code}].sort()${down ? ".reverse()" : ""}.join("")`, PREC.primary),
        run: (s) => (down ? [...s].sort().reverse() : [...s].sort()).join(""),
      });
    }
    return unknownKind("direction", kind);
  },
};

const FORMATS = ["true/false", "1/0", "yes/no"];

/** `e ? yes : no` with `e` parenthesised only if it binds more loosely than `?:`. */
function conditional(e: Expr, yes: string, no: string): Expr {
  return expr(`${operand(e, PREC.conditional + 1)}?${yes}:${no}`, PREC.conditional);
}

const answerFormat: FeedbackFamily = {
  name: "answer_format",
  kind: "unstated output format",
  withheld: 'how a yes/no answer is written: true/false, 1/0 or "yes"/"no"',
  revealedBy: "the expected value of any failing visible test is written in the format the tests want (true, 1 or \"yes\"; false, 0 or \"no\")",
  label: "answer format",
  options: FORMATS,
  inputs: { "(x)": "bool", "(xs)": "bool", "(s)": "bool" },
  step: (kind, option) => {
    if (kind !== "bool") return unknownKind("answer_format", kind);
    const say = () => 'answer as the tests expect (true/false, 1/0, "yes"/"no")';
    if (option === 0) {
      return defineOp<boolean, boolean>({
        name: "hidden_format_boolean", family: "check", from: "bool", to: "bool", group: "format", say,
        code: (e) => e,
        run: (b) => b,
      });
    }
    if (option === 1) {
      return defineOp<boolean, number>({
        name: "hidden_format_number", family: "check", from: "bool", to: "int", group: "format", say,
        code: (e) => conditional(e, "1", "0"),
        run: (b) => (b ? 1 : 0),
      });
    }
    return defineOp<boolean, string>({
      name: "hidden_format_words", family: "check", from: "bool", to: "str", group: "format", say,
      code: (e) => conditional(e, '"yes"', '"no"'),
      run: (b) => (b ? "yes" : "no"),
    });
  },
};

const NUMBER_FORMATS = ["a number", "a string", "a one-element list"];

const numberFormat: FeedbackFamily = {
  name: "number_format",
  kind: "unstated output format",
  withheld: 'how a number is returned: as a number (5), a string ("5") or a one-element list ([5])',
  revealedBy: "the expected value of any failing visible test is written in the form the tests want (5, \"5\" or [5])",
  label: "number format",
  options: NUMBER_FORMATS,
  inputs: { "(x)": "int", "(xs)": "int", "(s)": "int" },
  step: (kind, option) => {
    if (kind !== "int") return unknownKind("number_format", kind);
    const say = () => 'return the number as the tests expect (5, "5" or [5])';
    if (option === 0) {
      return defineOp<number, number>({
        name: "hidden_number_plain", family: "arith", from: "int", to: "int", group: "format", say,
        code: (e) => e,
        run: (x) => x,
      });
    }
    if (option === 1) {
      return defineOp<number, string>({
        name: "hidden_number_string", family: "arith", from: "int", to: "str", group: "format", say,
        code: (e) => expr(`String(${e.code})`, PREC.primary),
        run: (x) => String(x),
      });
    }
    return defineOp<number, number[]>({
      name: "hidden_number_list", family: "arith", from: "int", to: "ints", group: "format", say,
      code: (e) => expr(`[${e.code}]`, PREC.primary),
      run: (x) => [x],
    });
  },
};

const SEPARATORS = ["-", "_", ".", ":", "+", "*"];

const separator: FeedbackFamily = {
  name: "separator",
  kind: "unstated output format",
  withheld: "the separator that joins the result (one of - _ . : + *)",
  revealedBy: "the expected string of a failing visible test shows the separator between its first two items (every visible input has at least two to join)",
  label: "separator",
  options: SEPARATORS.map((s) => `'${s}'`),
  inputs: { "(xs)": "ints", "(s)": "str" },
  step: (kind, option) => {
    const sep = SEPARATORS[option];
    if (kind === "ints") {
      return defineOp<number[], string>({
        name: `hidden_join_${option}`, family: "chars", from: "ints", to: "str", group: "join",
        say: () => "join the elements with the hidden separator (one of - _ . : + *)",
        code: (e) => method(e, `join(${JSON.stringify(sep)})`),
        run: (xs) => xs.join(sep),
      });
    }
    if (kind === "str") {
      return defineOp<string, string>({
        name: `hidden_join_letters_${option}`, family: "chars", from: "str", to: "str", group: "join",
        say: () => "join the letters with the hidden separator (one of - _ . : + *)",
        code: (e) => expr(`[...${e.code}].join(${JSON.stringify(sep)})`, PREC.primary),
        run: (s) => [...s].join(sep),
      });
    }
    return unknownKind("separator", kind);
  },
};

export const FEEDBACK_FAMILIES: Readonly<Record<FeedbackFamilyName, FeedbackFamily>> = {
  offset,
  direction,
  answer_format: answerFormat,
  number_format: numberFormat,
  separator,
};

/** The family called `name` (throws on an unknown one). */
export function feedbackFamily(name: string): FeedbackFamily {
  const family = (FEEDBACK_FAMILIES as Record<string, FeedbackFamily>)[name];
  if (!family) throw new Error(`no feedback family "${name}" (known: ${FEEDBACK_FAMILY_NAMES.join(", ")})`);
  return family;
}
