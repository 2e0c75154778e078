/** `murphy generate-tasks [--suite default|feedback] [--seed s] [--out dir]`: regenerate a committed task suite. */
import { intFlag, parse, UsageError } from "./args";
import { generateSuite, writeSuite, DEFAULT_SEED, DEFAULT_SIZES } from "../taskgen/generate";
import { FEEDBACK_SEED, FEEDBACK_SIZES, generateFeedbackSuite } from "../taskgen/feedback/generate";
import { writeFeedbackSuite } from "../taskgen/feedback/write";
import { SUITE_NAMES, isSuiteName, suiteDir } from "../tasks/suites";

export async function main(argv: string[]): Promise<void> {
  const { values } = parse("generate-tasks", argv, {
    suite: { type: "string", default: "default" },
    seed: { type: "string" },
    out: { type: "string" },
  });
  const name = values.suite as string;
  if (!isSuiteName(name)) throw new UsageError(`murphy generate-tasks: --suite must be one of ${SUITE_NAMES.join(", ")} (got "${name}")`);
  const out = (values.out as string | undefined) ?? suiteDir(name);
  const feedback = name === "feedback";
  const seed = intFlag("generate-tasks", "seed", values.seed, feedback ? FEEDBACK_SEED : DEFAULT_SEED, 0);
  const suite = feedback ? generateFeedbackSuite(seed, FEEDBACK_SIZES) : generateSuite(seed, DEFAULT_SIZES);
  if (feedback) writeFeedbackSuite(out, suite);
  else writeSuite(out, suite);
  process.stdout.write(`wrote ${suite.train.length} train, ${suite.validation.length} validation, ${suite.test.length} test tasks to ${out}\n`);
}
