import path from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * The files that take longest, longest first: on a quiet 2-core machine each took 60 to 110 s of a
 * whole-suite pass of about 600 s, and the last three were next in a pass on a loaded machine. The
 * run starts them first: a long file that starts last keeps the run going on one worker after the
 * others have finished. Vitest orders by the previous run's durations where it has them, but CI
 * starts from a fresh install without them and orders by file size, which puts some of these near
 * the end. The other files follow in vitest's order; a name here that no longer exists is passed over.
 */
const SLOWEST_FIRST = [
  'test/docs/commands.test.ts',
  'test/bench/scaleout.test.ts',
  'test/deploy/helm.test.ts',
  'test/startup.test.ts',
  'test/operations/zero-downtime.test.ts',
  'test/admin/ui-pages.test.ts',
  'test/scaleout/workers.test.ts',
  'test/scaleout/redis-cluster.test.ts',
  'test/admin/ui-details.test.ts',
];

export default class SlowestFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (spec: TestSpecification) => {
      const i = SLOWEST_FIRST.indexOf(path.relative(spec.project.config.root, spec.moduleId).split(path.sep).join('/'));
      return i === -1 ? SLOWEST_FIRST.length : i;
    };
    // Array.prototype.sort is stable: the rest keep vitest's order.
    return sorted.sort((a, b) => rank(a) - rank(b));
  }
}
