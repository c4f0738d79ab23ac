// A growable ring buffer: O(1) push/shift at both ends, which the queues need (FIFO draining from
// the head, tail drop when shedding). Its size is bounded by its owner's limits.

export class Deque<T> {
  private items: Array<T | undefined>
  private head = 0
  private count = 0

  constructor(initialCapacity = 16) {
    this.items = new Array<T | undefined>(Math.max(2, initialCapacity))
  }

  get length(): number {
    return this.count
  }

  push(item: T): void {
    if (this.count === this.items.length) this.grow()
    this.items[(this.head + this.count) % this.items.length] = item
    this.count++
  }

  shift(): T | undefined {
    if (this.count === 0) return undefined
    const item = this.items[this.head]
    this.items[this.head] = undefined
    this.head = (this.head + 1) % this.items.length
    this.count--
    return item
  }

  pop(): T | undefined {
    if (this.count === 0) return undefined
    const index = (this.head + this.count - 1) % this.items.length
    const item = this.items[index]
    this.items[index] = undefined
    this.count--
    return item
  }

  peek(): T | undefined {
    return this.count === 0 ? undefined : this.items[this.head]
  }

  peekTail(): T | undefined {
    return this.count === 0 ? undefined : this.items[(this.head + this.count - 1) % this.items.length]
  }

  *[Symbol.iterator](): IterableIterator<T> {
    for (let i = 0; i < this.count; i++) yield this.items[(this.head + i) % this.items.length] as T
  }

  clear(): void {
    this.items = new Array<T | undefined>(16)
    this.head = 0
    this.count = 0
  }

  private grow(): void {
    const next = new Array<T | undefined>(this.items.length * 2)
    for (let i = 0; i < this.count; i++) next[i] = this.items[(this.head + i) % this.items.length]
    this.items = next
    this.head = 0
  }
}
