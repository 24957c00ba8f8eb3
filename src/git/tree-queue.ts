// Git work of one ws process on its repository happens one piece at a time: two commits racing
// would fight over index.lock and HEAD (the second would drop the first's commit), and a guard
// check that puts refs and HEAD back must not interleave with a commit that moves them.
let queue: Promise<unknown> = Promise.resolve();

/** Runs `work` after every piece queued before it has settled (in-process only). */
export function serialized<T>(work: () => Promise<T>): Promise<T> {
  const result = queue.then(work, work);
  queue = result.catch(() => undefined);
  return result;
}
