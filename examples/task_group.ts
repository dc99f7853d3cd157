/**
 * Structured concurrency with `TaskGroup` (beyond Syncless): tasklets started
 * in a group end with it. Leaving an `await using` block waits for every
 * member; the first error kills the others and is rethrown; a timeout around
 * the block kills the members too. No tasklet outlives its block.
 *
 *     deno run -A examples/task_group.ts
 *
 * @module
 */
import {
  sleep,
  TaskGroup,
  TaskletExit,
  TimeoutError,
  withTimeout,
} from "@syncless/syncless";

/** A pretend job: takes `ms`, then succeeds or fails; says if it was killed. */
async function job(name: string, ms: number, fail = false): Promise<string> {
  try {
    await sleep(ms);
  } catch (error) {
    if (error instanceof TaskletExit) console.log(`  ${name}: killed`);
    throw error;
  }
  if (fail) throw new Error(`${name} failed`);
  console.log(`  ${name}: done after ${ms} ms`);
  return name;
}

// 1. Wait for all: the block ends when the slowest member has ended.
console.log("1. three jobs, all succeed");
{
  await using group = new TaskGroup();
  const jobs = [["a", 30], ["b", 10], ["c", 20]] as const;
  const tasklets = jobs.map(([name, ms]) => group.spawn(() => job(name, ms)));
  // Members can be joined one by one too.
  console.log(`  first result: ${await tasklets[0].join()}`);
}
console.log("   all ended\n");

// 2. The first error cancels the siblings, then comes out of the block.
console.log("2. one job fails");
try {
  await using group = new TaskGroup();
  group.spawn(() => job("slow", 1000));
  group.spawn(() => job("faulty", 20, true));
} catch (error) {
  console.log(`   the block threw: ${(error as Error).message}\n`);
}

// 3. A timeout scope around the block: the members are killed on time.
console.log("3. a deadline around the group");
try {
  await withTimeout(50, async () => {
    await using group = new TaskGroup();
    for (const name of ["x", "y"]) group.spawn(() => job(name, 5000));
  });
} catch (error) {
  if (!(error instanceof TimeoutError)) throw error;
  console.log("   timed out after 50 ms, and no member is left running\n");
}

// 4. Cancelling a group on purpose, e.g. when a result is good enough.
console.log("4. first answer wins");
const group = new TaskGroup();
let winner = "";
for (
  const [name, ms] of [["fast", 10], ["slower", 500], [
    "slowest",
    1000,
  ]] as const
) {
  group.spawn(async () => {
    winner ||= await job(name, ms);
    group.cancel(); // the others are killed; join() does not throw for it
  });
}
await group.join();
console.log(`   winner: ${winner}`);
