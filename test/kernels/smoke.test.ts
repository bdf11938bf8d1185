import { describe, it, expect } from 'vitest';
import { harness, VARIANTS } from '../helpers/harness';
describe.each(VARIANTS)('%s', (v) => {
  it('loads', () => { const h = harness(v); expect(h.k.heap_base()).toBeGreaterThan(0); });
});
