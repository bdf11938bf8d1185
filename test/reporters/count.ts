// Prints the closing line CI counts: `N passed, N failed` (skipped ones added when present).
import type { Reporter, TestModule } from 'vitest/node';

export default class CountReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<unknown>): void {
    let passed = 0, failed = 0, skipped = 0;
    for (const mod of testModules) {
      let modFailed = 0, modSkipped = 0;
      for (const test of mod.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') passed++;
        else if (state === 'failed') modFailed++;
        else modSkipped++;
      }
      // A file whose setup (imports, beforeAll) failed has its tests skipped: they count as failed.
      if (mod.state() === 'failed' && modFailed === 0) {
        modFailed = Math.max(1, modSkipped);
        modSkipped = 0;
      }
      failed += modFailed;
      skipped += modSkipped;
    }
    failed += unhandledErrors.length;
    const tail = skipped ? `, ${skipped} skipped` : '';
    process.stdout.write(`\n${passed} passed, ${failed} failed${tail}\n`);
  }
}
