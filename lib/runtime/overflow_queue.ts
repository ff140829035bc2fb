// A sender's FIFO of messages waiting for space in the ring to one destination
// (RUNTIME.md §5), and of the remaining fragments of a message larger than a ring record (§2).
// Everything to that destination goes through it while it is non-empty, which keeps the
// per-sender order. Bounded in count and bytes for new sends; replies are always accepted.

export interface QueuedMessage {
  kind: number
  type: number
  actor: number
  requestId: number
  fromActor: number
  /** Local monotonic deadline of a request (the envelope gets what remains), else Infinity. */
  deadlineMs: number
  payload: Uint8Array
  /** Payload bytes already written (fragments). */
  sent: number
}

export class OverflowQueue {
  private items: QueuedMessage[] = []
  private head = 0
  bytes = 0

  get length(): number {
    return this.items.length - this.head
  }

  peek(): QueuedMessage | undefined {
    return this.items[this.head]
  }

  push(m: QueuedMessage): void {
    this.items.push(m)
    this.bytes += m.payload.length
  }

  shift(): void {
    const m = this.items[this.head]
    if (m === undefined) return
    this.bytes -= m.payload.length
    this.items[this.head++] = undefined as unknown as QueuedMessage
    if (this.head === this.items.length) {
      this.items = []
      this.head = 0
    } else if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head)
      this.head = 0
    }
  }

  /** Empties the queue, returning what was in it. */
  clear(): QueuedMessage[] {
    const rest = this.items.slice(this.head)
    this.items = []
    this.head = 0
    this.bytes = 0
    return rest
  }
}
