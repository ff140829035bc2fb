// The replica outbox of one driver (PROTOCOL.md §9.7): vnode requests to a node gather in that
// node's open batch during one synchronous run of the thread and leave as one BATCH request in
// a microtask (or as soon as the batch is full). Each item carries two tags (the driver's run
// and reply decoder, kept in parallel arrays: nothing is allocated per item) and is answered
// exactly once through `answer`: with its response payload (a view, valid during the call) or
// with an error (the item's own, or the whole batch's: timeout, node down, overloaded; only
// the first item of a failed batch has `first` set, so that the batch counts once against
// its node). An item the node could not fit in the batch's answer is sent again by itself,
// with what is left of the batch's budget. The runtime request's timeout is the largest item
// budget: a short budget (a get with a small timeoutMs) must not fail the others; each run
// enforces its own deadline.

import { KvError, decodeErrorPayload } from '../../errors'
import { replicaBatchBytesMax, replicaBatchItemsMax } from '../../constants'
import type { IncomingMessage, Transport } from '../../transport'
import { BatchType, VNODE_BATCH_ACTOR } from '../wire/actors'
import { BatchItems, BatchReader, ItemStatus } from '../wire/batch_wire'
import { payloadView } from '../wire/payload'
import type { Clock } from '../../util/clock'

export type ItemAnswer<A, B> = (node: number, a: A, b: B, err: KvError | undefined, response: Buffer | undefined, first: boolean) => void

class OpenBatch<A, B> {
  readonly items = new BatchItems()
  readonly as: A[] = []
  readonly bs: B[] = []
  timeoutMs = 0
  /** When it was sent (monotonic ms). */
  sentAtMs = 0

  constructor(readonly node: number) {}
}

export class ReplicaOutbox<A, B> {
  /** The open batch of each node (holes: none open). */
  private readonly open: (OpenBatch<A, B> | undefined)[] = []
  private readonly dirty: OpenBatch<A, B>[] = []
  private flushScheduled = false
  /** Batches sent and items in them, since the start. */
  readonly counters = { batches: 0, items: 0, resent: 0 }

  constructor(
    private readonly transport: Transport,
    private readonly clock: Clock,
    private readonly answer: ItemAnswer<A, B>,
  ) {}

  /** A READ or REPLICATE (the §9.2 payload is built from hintFor, key and object when sent). */
  addKeyed(node: number, a: A, b: B, timeoutMs: number, type: number, partition: number, hintFor: number, key: Buffer, object: Uint8Array | undefined): void {
    const batch = this.batchFor(node, BatchItems.keyedBytes(partition, hintFor, key, object))
    batch.items.addKeyed(type, partition, hintFor, key, object)
    this.added(batch, a, b, timeoutMs)
  }

  /** A request whose whole §9.2 payload is given (WRITE). */
  addRaw(node: number, a: A, b: B, timeoutMs: number, type: number, partition: number, payload: Uint8Array): void {
    const batch = this.batchFor(node, BatchItems.rawBytes(partition, payload))
    batch.items.addRaw(type, partition, payload)
    this.added(batch, a, b, timeoutMs)
  }

  /** Sends every open batch now. */
  flush = (): void => {
    this.flushScheduled = false
    const list = this.dirty.splice(0)
    for (const batch of list) {
      if (this.open[batch.node] === batch) this.open[batch.node] = undefined
      this.send(batch)
    }
  }

  private batchFor(node: number, itemBytes: number): OpenBatch<A, B> {
    let batch = this.open[node]
    if (batch !== undefined && (batch.items.count >= replicaBatchItemsMax || batch.items.bytes + itemBytes > replicaBatchBytesMax)) {
      this.open[node] = undefined
      this.dirty.splice(this.dirty.indexOf(batch), 1)
      this.send(batch)
      batch = undefined
    }
    if (batch === undefined) {
      batch = this.open[node] = new OpenBatch(node)
      this.dirty.push(batch)
      if (!this.flushScheduled) {
        this.flushScheduled = true
        queueMicrotask(this.flush)
      }
    }
    return batch
  }

  private added(batch: OpenBatch<A, B>, a: A, b: B, timeoutMs: number): void {
    batch.as.push(a)
    batch.bs.push(b)
    if (timeoutMs > batch.timeoutMs) batch.timeoutMs = timeoutMs
  }

  private send(batch: OpenBatch<A, B>): void {
    this.counters.batches++
    this.counters.items += batch.items.count
    batch.sentAtMs = this.clock.monotonicMs()
    try {
      this.transport.request(batch.node, VNODE_BATCH_ACTOR, BatchType.BATCH, batch.items.encode(), (err, resp) => this.settle(batch, err, resp), { timeoutMs: batch.timeoutMs })
    } catch (err) {
      // Thrown synchronously (node down, overloaded, closed): every item fails, later, so
      // that no machine is re-entered while it hands out effects.
      queueMicrotask(() => this.failAll(batch, err as KvError))
    }
  }

  private settle(batch: OpenBatch<A, B>, err: KvError | undefined, resp: IncomingMessage | undefined): void {
    if (err !== undefined) return this.failAll(batch, err)
    const buf = payloadView(resp!)
    const reader = new BatchReader()
    try {
      // Check the whole answer before acting on any of it.
      if (reader.reset(buf, false) !== batch.items.count) throw new KvError('KV_CORRUPTION', `a batch answer of ${reader.count} items for ${batch.items.count} requests`)
      while (reader.next());
    } catch (e) {
      return this.failAll(batch, e as KvError)
    }
    reader.reset(buf, false)
    const node = batch.node
    let thrown: unknown
    for (let i = 0; reader.next(); i++) {
      // One answer that throws (a bug) must not leave the others unanswered; it is rethrown after.
      try {
        if (reader.kind === ItemStatus.OK) this.answer(node, batch.as[i]!, batch.bs[i]!, undefined, reader.payload(), false)
        else if (reader.kind === ItemStatus.RETRY_ALONE && batch.items.count > 1) this.sendAlone(batch, i)
        else if (reader.kind === ItemStatus.RETRY_ALONE) this.answer(node, batch.as[i]!, batch.bs[i]!, new KvError('KV_CORRUPTION', 'a batch of one request answered "retry alone"', { node }), undefined, false)
        else this.answer(node, batch.as[i]!, batch.bs[i]!, decodeErrorPayload(buf, reader.start, reader.end - reader.start, { node }), undefined, false)
      } catch (e) {
        thrown ??= e
      }
    }
    if (thrown !== undefined) throw thrown
  }

  /**
   * Item i of `batch` again, in a batch of its own (its answer did not fit the batch's), with
   * what is left of the batch's budget. With none left it fails KV_TIMEOUT, not counted
   * against the node (which answered); the requester cannot tell that it was not applied.
   */
  private sendAlone(batch: OpenBatch<A, B>, i: number): void {
    const leftMs = batch.timeoutMs - (this.clock.monotonicMs() - batch.sentAtMs)
    if (leftMs <= 0) {
      this.answer(batch.node, batch.as[i]!, batch.bs[i]!, new KvError('KV_TIMEOUT', 'the batch answered "retry alone" after its budget', { node: batch.node, timeoutMs: batch.timeoutMs }), undefined, false)
      return
    }
    const alone = new OpenBatch<A, B>(batch.node)
    alone.items.addFrom(batch.items, i)
    this.added(alone, batch.as[i]!, batch.bs[i]!, Math.max(1, Math.ceil(leftMs)))
    this.counters.resent++
    this.send(alone)
  }

  private failAll(batch: OpenBatch<A, B>, err: KvError): void {
    let thrown: unknown
    for (let i = 0; i < batch.as.length; i++) {
      try {
        this.answer(batch.node, batch.as[i]!, batch.bs[i]!, err, undefined, i === 0)
      } catch (e) {
        thrown ??= e
      }
    }
    if (thrown !== undefined) throw thrown
  }
}
