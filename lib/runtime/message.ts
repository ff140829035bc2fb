// A received message as actors and response callbacks see it. One instance per endpoint is
// reused for every record (no allocation per message): its payload view points into the
// ring and is valid only during the handler or callback call (RUNTIME.md §3). Keep a
// ReplyTarget (replyTarget()) and copyPayload() to answer or use it later.

import { invalidArgument, type KvError } from '../errors'
import { Kind } from './envelope'

/** Everything needed to answer a request after its handler returned. */
export interface ReplyTarget {
  readonly from: number
  readonly requestId: number
  readonly generation: number
  readonly type: number
  readonly actor: number
  readonly deadlineMs: number
}

export class Message implements ReplyTarget {
  /** Sending endpoint (0 = supervisor, 1..N = nodes). */
  from = 0
  fromActor = 0
  /** Destination actor (for a response: the actor the request went to). */
  actor = 0
  type = 0
  kind: number = Kind.MESSAGE
  requestId = 0
  /** The sender's generation (§2). */
  generation = 0
  /** Local monotonic deadline of a request, Infinity if none. */
  deadlineMs = Infinity
  /** The payload is bytes[offset, offset + length): a view into the ring. */
  bytes: Uint8Array = EMPTY
  offset = 0
  length = 0

  get isRequest(): boolean {
    return this.kind === Kind.REQUEST
  }

  /** A view of the payload (allocates a view object; valid only during the call). */
  get payload(): Uint8Array {
    return this.bytes.subarray(this.offset, this.offset + this.length)
  }

  copyPayload(): Uint8Array {
    return this.bytes.slice(this.offset, this.offset + this.length)
  }

  replyTarget(): ReplyTarget {
    return {
      from: this.from,
      requestId: this.requestId,
      generation: this.generation,
      type: this.type,
      actor: this.actor,
      deadlineMs: this.deadlineMs,
    }
  }
}

const EMPTY = new Uint8Array(0)

/** For actors: the error to throw for a message type they do not handle (§7). */
export function unknownType(msg: { type: number; actor: number }): KvError {
  return invalidArgument(`actor ${msg.actor} does not handle message type ${msg.type}`, { actor: msg.actor, type: msg.type })
}
