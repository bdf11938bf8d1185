// Learning-rate schedules: values at the key steps against hand-computed numbers, the shape
// of each piece (rising warmup, falling decay), and the errors for bad options and steps.
import { describe, expect, it } from 'vitest';
import { constant, cosineWithWarmup, linearWarmup, noam } from '../../src/optim/schedule.js';
import type { LrSchedule } from '../../src/optim/schedule.js';
import { ValueError } from '../../src/errors.js';

/** Throws, naming the first step where the schedule breaks `order` on [from, to]. */
function expectMonotone(lrAt: LrSchedule, from: number, to: number, order: 'up' | 'down'): void {
  for (let s = from; s < to; s++) {
    const a = lrAt(s), b = lrAt(s + 1);
    if (order === 'up' ? !(b > a) : !(b <= a)) throw new Error(`not ${order} at step ${s}: ${a} then ${b}`);
  }
}

describe('cosineWithWarmup', () => {
  const lr = 6e-4, minLr = 6e-5;
  const lrAt = cosineWithWarmup({ lr, minLr, warmupSteps: 10, decaySteps: 110 });

  it('matches nanoGPT get_lr at the key steps', () => {
    expect(lrAt(0)).toBeCloseTo((6e-4 * 1) / 11, 15);
    expect(lrAt(4)).toBeCloseTo((6e-4 * 5) / 11, 15);
    expect(lrAt(9)).toBeCloseTo((6e-4 * 10) / 11, 15);
    expect(lrAt(10)).toBe(lr); // decay ratio 0: the peak
    expect(lrAt(35)).toBeCloseTo(6e-5 + 0.5 * (1 + Math.SQRT1_2) * 5.4e-4, 15); // ratio 1/4
    expect(lrAt(60)).toBeCloseTo(3.3e-4, 15); // ratio 1/2: halfway between lr and minLr
    expect(lrAt(110)).toBeCloseTo(minLr, 18); // ratio 1
    expect(lrAt(111)).toBe(minLr);
    expect(lrAt(1_000_000)).toBe(minLr);
  });

  it('rises through the warmup and never rises after it', () => {
    expectMonotone(lrAt, 0, 10, 'up');
    expectMonotone(lrAt, 10, 200, 'down');
    const noWarmup = cosineWithWarmup({ lr: 1, minLr: 0, warmupSteps: 0, decaySteps: 4 });
    expect([0, 1, 2, 3, 4, 5].map(noWarmup).map((x) => Number(x.toFixed(12)))).toEqual([1, 0.853553390593, 0.5, 0.146446609407, 0, 0]);
  });

  it('rejects bad options and steps, naming the values', () => {
    const ok = { lr: 1e-3, minLr: 1e-4, warmupSteps: 10, decaySteps: 100 };
    expect(() => cosineWithWarmup({ ...ok, lr: -1 })).toThrow(/lr is -1/);
    expect(() => cosineWithWarmup({ ...ok, lr: NaN })).toThrow(/lr is NaN/);
    expect(() => cosineWithWarmup({ ...ok, minLr: Infinity })).toThrow(/minLr is Infinity/);
    expect(() => cosineWithWarmup({ ...ok, minLr: 2e-3 })).toThrow(/minLr 0.002 is above lr 0.001/);
    expect(() => cosineWithWarmup({ ...ok, warmupSteps: -1 })).toThrow(/warmupSteps is -1/);
    expect(() => cosineWithWarmup({ ...ok, warmupSteps: 2.5 })).toThrow(/warmupSteps is 2.5/);
    expect(() => cosineWithWarmup({ ...ok, decaySteps: 5 })).toThrow(/decaySteps is 5, expected an integer > warmupSteps = 10/);
    expect(() => cosineWithWarmup({ ...ok, decaySteps: 10 })).toThrow(ValueError);
    const lrAt = cosineWithWarmup(ok);
    expect(() => lrAt(-1)).toThrow(/step is -1/);
    expect(() => lrAt(NaN)).toThrow(/step is NaN/);
    expect(() => lrAt(0.5)).toThrow(ValueError);
  });
});

describe('linearWarmup and constant', () => {
  it('warm up as cosineWithWarmup does, then hold', () => {
    const lrAt = linearWarmup({ lr: 1e-3, warmupSteps: 4 });
    expect([0, 1, 2, 3, 4, 100].map(lrAt)).toEqual([1e-3 / 5, 2e-3 / 5, 3e-3 / 5, 4e-3 / 5, 1e-3, 1e-3]);
    const cos = cosineWithWarmup({ lr: 1e-3, minLr: 0, warmupSteps: 4, decaySteps: 50 });
    for (let s = 0; s <= 4; s++) expect(lrAt(s)).toBe(cos(s));
    expect(linearWarmup({ lr: 2, warmupSteps: 0 })(0)).toBe(2);
    expect(constant(3e-4)(0)).toBe(3e-4);
    expect(constant(3e-4)(123456)).toBe(3e-4);
    expect(() => linearWarmup({ lr: -2, warmupSteps: 3 })).toThrow(/lr is -2/);
    expect(() => constant(NaN)).toThrow(/constant: lr is NaN/);
    expect(() => constant(1)(-3)).toThrow(/step is -3/);
  });
});

describe('noam', () => {
  it('peaks at s = warmup with factor · dModel^-0.5 · warmup^-0.5, rising before and falling after', () => {
    const lrAt = noam({ dModel: 512, warmupSteps: 4000 });
    const peak = 512 ** -0.5 * 4000 ** -0.5;
    expect(lrAt(3999)).toBeCloseTo(peak, 15); // s = 4000
    expect(lrAt(0)).toBeCloseTo(512 ** -0.5 * 4000 ** -1.5, 18); // s = 1: finite and tiny
    expect(lrAt(1999)).toBeCloseTo(peak / 2, 15); // s = 2000: half-way up the ramp
    expect(lrAt(15999)).toBeCloseTo(peak / 2, 15); // s = 16000: (1/4)^0.5 of the peak
    expectMonotone(lrAt, 0, 3999, 'up');
    expectMonotone(lrAt, 3999, 8000, 'down');
    for (let s = 0; s < 20000; s += 97) expect(lrAt(s)).toBeLessThanOrEqual(peak * (1 + 1e-12));
    expect(noam({ dModel: 512, warmupSteps: 4000, factor: 2 })(3999)).toBeCloseTo(2 * peak, 15);
  });

  it('with warmupSteps 0 is a pure inverse square root', () => {
    const lrAt = noam({ dModel: 64, warmupSteps: 0 });
    expect(lrAt(0)).toBe(1 / 8);
    expect(lrAt(3)).toBe(1 / 16);
  });

  it('rejects bad options', () => {
    expect(() => noam({ dModel: 0, warmupSteps: 10 })).toThrow(/dModel is 0/);
    expect(() => noam({ dModel: 12.5, warmupSteps: 10 })).toThrow(/dModel is 12.5/);
    expect(() => noam({ dModel: 64, warmupSteps: -10 })).toThrow(/warmupSteps is -10/);
    expect(() => noam({ dModel: 64, warmupSteps: 10, factor: -1 })).toThrow(/factor is -1/);
    expect(() => noam({ dModel: 64, warmupSteps: 10 })(NaN)).toThrow(/step is NaN/);
  });
});
