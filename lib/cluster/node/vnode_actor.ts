// The vnode actors of one node (PROTOCOL.md §9.1, §9.2, §9.7): one actor per partition, and
// the batch actor that carries many vnode requests in one message; all backed by the node's
// VnodeStore (primary role) and HintStore (fallback role, `hintFor` ≠ 0). One function serves
// a request whichever way it came. Handlers never block: storage writes complete later and
// answer through a ReplyTarget.

import { KvError, encodeErrorPayload } from '../../errors'
import { replicaBatchReplyBytesMax } from '../../constants'
import type { ReplyTarget, Transport } from '../../transport'
import { BatchType, VNODE_BATCH_ACTOR, vnodeActor, VnodeType } from '../wire/actors'
import { BatchReader, BatchReplyWriter, ItemStatus, isBatchItemType } from '../wire/batch_wire'
import { payloadCopy, payloadView } from '../wire/payload'
import { ackPayload, decodeKeyed, decodeWrite, encodeObjectReply, encodeWriteReply } from '../wire/replica_wire'
import type { HintStore } from './hint_store'
import type { VnodeStore } from './vnode_store'

/** The node state the vnodes serve from; `store` is undefined while the node is stopped. */
export interface VnodeHost {
  store: VnodeStore | undefined
  hints: HintStore | undefined
  dropped: number
}

/** Where the answer of request `i` goes: one reply, or one item of a batch reply. */
interface Answers {
  /** `repeatable`: the request may be sent again (not a WRITE: see BatchReplyWriter.set). */
  ok(i: number, payload: Uint8Array, repeatable: boolean): void
  /** A READ's answer (stored object bytes, or none). */
  object(i: number, object: Uint8Array | undefined): void
  error(i: number, err: KvError): void
}

function stopped(t: Transport): KvError {
  return new KvError('KV_UNAVAILABLE', `node ${t.self} is stopped`, { node: t.self })
}

/**
 * Serves one §9.2 request of `partition`. READ answers synchronously from a view; the others
 * keep views into `payload` past this call, so it must be owned. Failures reach `answers`.
 * `stored`: for a WRITE, the key's stored object as just read (null: none), else read here.
 */
function serve(store: VnodeStore, hints: HintStore, partition: number, type: number, payload: Buffer, i: number, answers: Answers, stored?: Buffer | null): void {
  const settle = (p: Promise<unknown>, ok: () => Uint8Array): void => {
    p.then(() => answers.ok(i, ok(), type !== VnodeType.WRITE), (err: unknown) => answers.error(i, asKvError(err)))
  }
  // The answers are given outside the try: an answer that fails to go out must not be answered twice.
  let read: Uint8Array | undefined
  try {
    switch (type) {
      case VnodeType.READ: {
        const k = decodeKeyed(payload)
        read = k.hintFor === 0 ? store.read(partition, k.key) : hints.read(k.hintFor, k.key)
        break
      }
      case VnodeType.WRITE: {
        const w = decodeWrite(payload, false)
        let out: { object: Buffer; context: Buffer } | undefined
        settle(store.write(partition, w, stored).then((r) => (out = r)), () => encodeWriteReply(out!.object, out!.context))
        return
      }
      case VnodeType.REPLICATE: {
        const k = decodeKeyed(payload)
        settle(k.hintFor === 0 ? store.merge(partition, k.key, k.object, 'replica') : hints.add(k.hintFor, partition, k.key, k.object), () => ackPayload)
        return
      }
      case VnodeType.HANDOFF: {
        const k = decodeKeyed(payload)
        settle(store.merge(partition, k.key, k.object, 'handoff'), () => ackPayload)
        return
      }
      default:
        throw new KvError('KV_INVALID_ARGUMENT', `vnode does not handle message type ${type}`, { type })
    }
  } catch (err) {
    if (!(err instanceof KvError)) throw err // a programmer error crashes the node (STYLE.md 5)
    return answers.error(i, err)
  }
  answers.object(i, read)
}

/** Sends a reply; one that cannot go out (too large, requester gone) becomes an error reply. */
function replySafely(t: Transport, target: ReplyTarget, payload: Uint8Array): void {
  try {
    t.reply(target, payload)
  } catch (err) {
    if (!(err instanceof KvError)) throw err
    try {
      t.replyError(target, err)
    } catch (again) {
      if (!(again instanceof KvError)) throw again // KV_CLOSED while the node stops: nobody to answer
    }
  }
}

/** Answers of a single vnode message. */
class ReplyAnswers implements Answers {
  constructor(
    private readonly t: Transport,
    private readonly target: ReplyTarget,
  ) {}

  ok(_i: number, payload: Uint8Array): void {
    replySafely(this.t, this.target, payload)
  }

  object(_i: number, object: Uint8Array | undefined): void {
    replySafely(this.t, this.target, encodeObjectReply(object))
  }

  error(_i: number, err: KvError): void {
    this.t.replyError(this.target, err)
  }
}

/** Answers of a batch: the reply goes out when the last item is settled (§9.7). */
class BatchAnswers implements Answers {
  private readonly writer: BatchReplyWriter
  private pending: number

  constructor(
    private readonly t: Transport,
    private readonly target: ReplyTarget,
    count: number,
  ) {
    this.writer = new BatchReplyWriter(count, replicaBatchReplyBytesMax)
    this.pending = count
  }

  ok(i: number, payload: Uint8Array, repeatable: boolean): void {
    this.writer.set(i, ItemStatus.OK, payload, repeatable)
    this.settled()
  }

  object(i: number, object: Uint8Array | undefined): void {
    this.writer.setObject(i, object)
    this.settled()
  }

  error(i: number, err: KvError): void {
    this.writer.set(i, ItemStatus.ERROR, encodeErrorPayload(err), false)
    this.settled()
  }

  /** Not served: the requester sends it again by itself while its budget lasts (§9.7). */
  retryAlone(i: number): void {
    this.writer.set(i, ItemStatus.RETRY_ALONE, new Uint8Array(0))
    this.settled()
  }

  private settled(): void {
    if (--this.pending === 0) replySafely(this.t, this.target, this.writer.encode())
  }
}

export function registerVnodes(t: Transport, partitions: number, host: VnodeHost): void {
  for (let p = 0; p < partitions; p++) {
    const partition = p
    t.register(vnodeActor(p), (msg) => {
      const store = host.store
      const hints = host.hints
      if (store === undefined || hints === undefined) {
        if (msg.isRequest) throw stopped(t)
        host.dropped++
        return
      }
      if (msg.type === VnodeType.REPAIR) {
        const k = decodeKeyed(payloadCopy(msg))
        store.merge(partition, k.key, k.object, 'repair').catch(() => host.dropped++)
        return
      }
      if (msg.type === VnodeType.READ) serve(store, hints, partition, msg.type, payloadView(msg), 0, new ReplyAnswers(t, msg))
      else serve(store, hints, partition, msg.type, payloadCopy(msg), 0, new ReplyAnswers(t, msg.replyTarget()))
    })
  }
  registerBatches(t, partitions, host)
}

function registerBatches(t: Transport, partitions: number, host: VnodeHost): void {
  const reader = new BatchReader()
  t.register(VNODE_BATCH_ACTOR, (msg) => {
    const store = host.store
    const hints = host.hints
    if (store === undefined || hints === undefined) throw stopped(t)
    if (msg.type !== BatchType.BATCH) throw new KvError('KV_INVALID_ARGUMENT', `the batch actor does not handle message type ${msg.type}`, { type: msg.type })
    // First pass: check every item before serving any; only reads may be served from the view.
    let buf = payloadView(msg)
    const count = reader.reset(buf, true)
    let readsOnly = true
    while (reader.next()) {
      if (!isBatchItemType(reader.kind)) throw new KvError('KV_CORRUPTION', `a batch item of type ${reader.kind}`, { type: reader.kind })
      if (reader.partition >= partitions) throw new KvError('KV_CORRUPTION', `a batch item for partition ${reader.partition} of ${partitions}`)
      if (reader.kind !== VnodeType.READ) readsOnly = false
    }
    if (count === 0) {
      t.reply(msg, new BatchReplyWriter(0).encode())
      return
    }
    if (!readsOnly) buf = payloadCopy(msg)
    const answers = new BatchAnswers(t, readsOnly ? msg : msg.replyTarget(), count)
    reader.reset(buf, true)
    // A WRITE's answer carries the whole stored object and is never refused once applied: a
    // WRITE whose answer could take the batch's past the cap is not served but sent back alone.
    let writeAnswerBytes = 0
    for (let i = 0; reader.next(); i++) {
      let stored: Buffer | null | undefined
      if (reader.kind === VnodeType.WRITE && count > 1) {
        stored = storedForWrite(store, reader.partition, reader.payload())
        const bytes = (stored?.length ?? 0) + reader.payload().length
        if (writeAnswerBytes + bytes > replicaBatchReplyBytesMax) {
          answers.retryAlone(i)
          continue
        }
        writeAnswerBytes += bytes
      }
      serve(store, hints, reader.partition, reader.kind, reader.payload(), i, answers, stored)
    }
  })
}

/**
 * The object stored for a WRITE's key (null: none), read once for both the answer's size (at
 * least it plus the request) and the write itself; undefined when the request is malformed
 * (serve() answers it with its error).
 */
function storedForWrite(store: VnodeStore, partition: number, payload: Buffer): Buffer | null | undefined {
  let key: Uint8Array
  try {
    key = decodeWrite(payload, false).key
  } catch {
    return undefined
  }
  return store.stored(partition, key) ?? null
}

function asKvError(err: unknown): KvError {
  if (err instanceof KvError) return err
  return new KvError('KV_IO_ERROR', err instanceof Error ? err.message : String(err))
}
