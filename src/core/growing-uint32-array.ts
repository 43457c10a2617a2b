/**
 * A list of 32-bit unsigned integers in one typed array: 4 bytes an item, where a plain array of numbers
 * costs twice that and a boxed double more, which matters when validation keeps one per pair of a
 * million-pair dataset.
 */
export class GrowingUint32Array {
  private items: Uint32Array;
  private count = 0;

  constructor(initialCapacity = 1024) {
    this.items = new Uint32Array(Math.max(1, initialCapacity));
  }

  get length(): number {
    return this.count;
  }

  /** Bytes held, spare capacity included. */
  get byteLength(): number {
    return this.items.byteLength;
  }

  push(value: number): void {
    if (this.count === this.items.length) this.grow();
    this.items[this.count++] = value;
  }

  at(index: number): number {
    if (index < 0 || index >= this.count) throw new RangeError(`index ${index} out of 0..${this.count - 1}`);
    return this.items[index] as number;
  }

  /** The items as a view (writes go through): valid until the next push, which may move them. */
  view(): Uint32Array {
    return this.items.subarray(0, this.count);
  }

  private grow(): void {
    const bigger = new Uint32Array(this.items.length * 2);
    bigger.set(this.items);
    this.items = bigger;
  }
}
