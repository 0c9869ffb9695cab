import { HoldBack } from './hold-back';

describe('HoldBack', () => {
  it('finds held items by the addresses they wait on, and releases them', () => {
    const hold = new HoldBack<string>({ holdBackMs: 1_000, maxHeld: 10 });
    hold.hold('a', [1], 0);
    hold.hold('b', [1, 2], 0);
    hold.hold('c', [3], 0);
    expect(hold.waitingOn(1).map((e) => e.value)).toEqual(['a', 'b']);
    const b = hold.waitingOn(2)[0];
    if (b === undefined) throw new Error('b should wait on 2');
    hold.release(b);
    expect(hold.waitingOn(1).filter((e) => !e.gone).map((e) => e.value)).toEqual(['a']);
    expect(hold.waitingOn(2)).toEqual([]);
    expect(hold.size).toBe(2);
  });

  it('expires items held for holdBackMs of processing time, oldest first, and never twice', () => {
    const hold = new HoldBack<string>({ holdBackMs: 1_000, maxHeld: 10 });
    hold.hold('a', [1], 0);
    hold.hold('b', [2], 500);
    hold.hold('c', [3], 900);
    const a = hold.waitingOn(1)[0];
    expect(hold.expire(999)).toEqual([]);
    expect(hold.expire(1_500).map((e) => e.value)).toEqual(['a', 'b']);
    expect(a?.gone).toBe(true);
    expect(hold.waitingOn(1)).toEqual([]);
    expect(hold.expire(1_600)).toEqual([]);
    expect(hold.size).toBe(1);
  });

  it('pushes the oldest items out when the bound is reached', () => {
    const hold = new HoldBack<string>({ holdBackMs: 1_000, maxHeld: 2 });
    expect(hold.hold('a', [1], 0)).toEqual([]);
    expect(hold.hold('b', [1], 1)).toEqual([]);
    expect(hold.hold('c', [2], 2).map((e) => e.value)).toEqual(['a']);
    expect(hold.size).toBe(2);
    expect(hold.waitingOn(1).filter((e) => !e.gone).map((e) => e.value)).toEqual(['b']);
  });

  it('keeps its indexes small while many items come and go', () => {
    const hold = new HoldBack<number>({ holdBackMs: 10, maxHeld: 1_000_000 });
    for (let t = 0; t < 10_000; t++) {
      hold.hold(t, [t % 3], t);
      hold.expire(t);
    }
    expect(hold.size).toBe(10);
    expect(hold.addresses().sort()).toEqual([0, 1, 2]);
    expect(hold.waitingOn(0).length).toBeLessThan(100);
  });
});
