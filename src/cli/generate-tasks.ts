/** `murphy generate-tasks [--seed s] [--out dir]`: regenerate the committed task suite. */
import { intFlag, parse } from "./args";
import { TASKS_DIR } from "../paths";
import { generateSuite, writeSuite, DEFAULT_SEED, DEFAULT_SIZES } from "../tasks/generate";

export async function main(argv: string[]): Promise<void> {
  const { values } = parse("generate-tasks", argv, {
    seed: { type: "string" },
    out: { type: "string", default: TASKS_DIR },
  });
  const seed = intFlag("generate-tasks", "seed", values.seed, DEFAULT_SEED, 0);
  const suite = generateSuite(seed, DEFAULT_SIZES);
  writeSuite(values.out as string, suite);
  process.stdout.write(`wrote ${suite.train.length} train, ${suite.validation.length} validation, ${suite.test.length} test tasks to ${values.out}\n`);
}
