import { ManualClock } from '@topology/model';
import { ProgressClock } from './progress-clock';

describe('the clock of stage state that waits in processing time', () => {
  it('runs while its inputs are active and stands still while one is silent too long', () => {
    const base = new ManualClock(1_000);
    const clock = new ProgressClock(base, 2_000);
    expect(clock.now()).toBe(1_000);
    clock.activity('us-east-1');
    clock.activity('eu-west-1');
    base.advance(1_500);
    clock.activity('us-east-1');
    base.advance(1_500);
    // eu-west-1 has been silent for 3 s: time stopped 2 s after its last activity.
    expect(clock.now()).toBe(3_000);
    base.advance(10_000);
    expect(clock.now()).toBe(3_000);
    // us-east-1 has gone silent meanwhile too: time runs again only once both are active.
    clock.activity('eu-west-1');
    expect(clock.now()).toBe(3_000);
    base.advance(500);
    clock.activity('us-east-1');
    expect(clock.now()).toBe(3_000);
    expect(clock.stoodStillMs()).toBe(11_500);
    base.advance(500);
    clock.activity('us-east-1');
    clock.activity('eu-west-1');
    expect(clock.now()).toBe(3_500);
  });

  it('runs on when a silent input is gone, and never runs backwards', () => {
    const base = new ManualClock(0);
    const clock = new ProgressClock(base, 1_000);
    clock.activity('a');
    clock.activity('b');
    base.advance(5_000);
    clock.activity('a');
    expect(clock.now()).toBe(1_000);
    clock.forget('b');
    base.advance(100);
    expect(clock.now()).toBe(1_100);
  });

  it('runs as its base clock when no input reports activity (the in-process bus)', () => {
    const base = new ManualClock(0);
    const clock = new ProgressClock(base, 1_000);
    base.advance(60_000);
    expect(clock.now()).toBe(60_000);
  });
});
