import path from "node:path";
import { BaseSequencer, type TestSpecification } from "vitest/node";

/**
 * Vitest's own order runs the projects one after another (by name) and only sorts by duration
 * inside each, so a long file of a project that comes later starts late and ends alone while the
 * other cores idle. This order is across projects: the files that took longest last time first
 * (and any file failed last time before that), files with no record first of all, then by size.
 * Groups (sequence.groupOrder, and the maxWorkers 1 files vitest runs after the rest) stay as
 * they are: this only orders the files within one.
 */
export default class LongestFirst extends BaseSequencer {
  override sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const cache = this.ctx.cache;
    const key = (spec: TestSpecification) => `${spec.project.name}:${path.relative(this.ctx.config.root, spec.moduleId)}`;
    const ranked = files.map((spec) => ({ spec, result: cache.getFileTestResults(key(spec)), size: cache.getFileStats(key(spec))?.size ?? 0 }));
    ranked.sort((a, b) => {
      const group = a.spec.project.config.sequence.groupOrder - b.spec.project.config.sequence.groupOrder;
      if (group !== 0) return group;
      if (!a.result || !b.result) return a.result ? 1 : b.result ? -1 : b.size - a.size;
      if (a.result.failed !== b.result.failed) return a.result.failed ? -1 : 1;
      return b.result.duration - a.result.duration;
    });
    return Promise.resolve(ranked.map((r) => r.spec));
  }
}
