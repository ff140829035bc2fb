// The vnode actors of one node (PROTOCOL.md §9.1, §9.2): one actor per partition, all backed
// by the node's VnodeStore (primary role) and HintStore (fallback role, `hintFor` ≠ 0).
// Handlers never block: storage writes complete later and answer through a ReplyTarget.

import { KvError } from '../../errors'
import type { IncomingMessage, ReplyTarget, Transport } from '../../transport'
import { vnodeActor, VnodeType } from '../wire/actors'
import { ackPayload, decodeKeyed, decodeWrite, encodeObjectReply, encodeWriteReply } from '../wire/replica_wire'
import type { HintStore } from './hint_store'
import type { VnodeStore } from './vnode_store'

/** The node state the vnodes serve from; `store` is undefined while the node is stopped. */
export interface VnodeHost {
  store: VnodeStore | undefined
  hints: HintStore | undefined
  dropped: number
}

function view(msg: IncomingMessage): Buffer {
  return Buffer.from(msg.bytes.buffer, msg.bytes.byteOffset + msg.offset, msg.length)
}

function owned(msg: IncomingMessage): Buffer {
  const c = msg.copyPayload()
  return Buffer.from(c.buffer, c.byteOffset, c.byteLength)
}

export function registerVnodes(t: Transport, partitions: number, host: VnodeHost): void {
  const answer = (target: ReplyTarget, p: Promise<unknown>, payload: () => Uint8Array): void => {
    p.then(() => t.reply(target, payload()), (err: unknown) => t.replyError(target, asKvError(err)))
  }
  for (let p = 0; p < partitions; p++) {
    const partition = p
    t.register(vnodeActor(p), (msg) => {
      const store = host.store
      const hints = host.hints
      if (store === undefined || hints === undefined) {
        if (msg.isRequest) throw new KvError('KV_UNAVAILABLE', `node ${t.self} is stopped`, { node: t.self })
        host.dropped++
        return
      }
      switch (msg.type) {
        case VnodeType.READ: {
          const k = decodeKeyed(view(msg))
          const obj = k.hintFor === 0 ? store.read(partition, k.key) : hints.read(k.hintFor, k.key)
          t.reply(msg, encodeObjectReply(obj))
          return
        }
        case VnodeType.WRITE: {
          const w = decodeWrite(owned(msg), false)
          let out: { object: Buffer; context: Buffer } | undefined
          answer(msg.replyTarget(), store.write(partition, w).then((r) => (out = r)), () => encodeWriteReply(out!.object, out!.context))
          return
        }
        case VnodeType.REPLICATE: {
          const k = decodeKeyed(owned(msg))
          const done = k.hintFor === 0 ? store.merge(partition, k.key, k.object, 'replica') : hints.add(k.hintFor, partition, k.key, k.object)
          answer(msg.replyTarget(), done, () => ackPayload)
          return
        }
        case VnodeType.HANDOFF: {
          const k = decodeKeyed(owned(msg))
          answer(msg.replyTarget(), store.merge(partition, k.key, k.object, 'handoff'), () => ackPayload)
          return
        }
        case VnodeType.REPAIR: {
          const k = decodeKeyed(owned(msg))
          store.merge(partition, k.key, k.object, 'repair').catch(() => host.dropped++)
          return
        }
        default:
          throw new KvError('KV_INVALID_ARGUMENT', `vnode does not handle message type ${msg.type}`, { type: msg.type })
      }
    })
  }
}

function asKvError(err: unknown): KvError {
  if (err instanceof KvError) return err
  return new KvError('KV_IO_ERROR', err instanceof Error ? err.message : String(err))
}
