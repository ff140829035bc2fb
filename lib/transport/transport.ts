// The Transport interface: how cluster code sends to any node's actors without knowing where
// the node runs. LocalTransport (local_transport.ts) carries messages over the runtime's
// shared-memory mailboxes; a TCP transport (frames on sockets) and a simulated transport
// (seeded, virtual time, fault injection) implement the same interface, so callers never
// change. Payloads are opaque bytes; message types and actor ids belong to the protocols.

import type { KvError } from '../errors'

/** A node as the transport addresses it (the local runtime's endpoint ids: 0 = supervisor). */
export type NodeId = number

/** Enough to answer a request later, after the handler returned. */
export interface ReplyTarget {
  readonly from: NodeId
  readonly requestId: number
  readonly generation: number
  readonly type: number
  readonly actor: number
  readonly deadlineMs: number
}

/**
 * A received message. It may be a reused object whose payload view points into a buffer that
 * is reused after the handler returns: copy what you keep (copyPayload, replyTarget).
 */
export interface IncomingMessage extends ReplyTarget {
  readonly fromActor: number
  readonly isRequest: boolean
  /** The payload is bytes[offset, offset + length). */
  readonly bytes: Uint8Array
  readonly offset: number
  readonly length: number
  /** A view of the payload, valid during the call. */
  readonly payload: Uint8Array
  copyPayload(): Uint8Array
  replyTarget(): ReplyTarget
}

export type MessageHandler = (msg: IncomingMessage) => void
/** Called exactly once, asynchronously: an error, or the response (valid during the call). */
export type ResponseCallback = (err: KvError | undefined, response: IncomingMessage | undefined) => void
export type NodeListener = (node: NodeId, up: boolean) => void

export interface SendOptions {
  /** KV_OVERLOADED instead of queueing when the link to the node is full. */
  failFast?: boolean
  fromActor?: number
}

export interface RequestOptions extends SendOptions {
  /** The request fails with KV_TIMEOUT after this; the handler sees the remaining budget. */
  timeoutMs?: number
}

/**
 * Errors: argument errors (KV_INVALID_ARGUMENT), a node that is not up (KV_UNAVAILABLE), a
 * full link with failFast or a full queue (KV_OVERLOADED) and a closed transport (KV_CLOSED)
 * are thrown synchronously by send/request; everything after that reaches the callback:
 * KV_TIMEOUT, KV_UNAVAILABLE (the node went down), KV_CLOSED, or the handler's KvError.
 * Messages from one node to another arrive in send order; nothing queued is dropped unless
 * the destination goes down.
 */
export interface Transport {
  readonly self: NodeId
  /** Hosts an actor on this node. */
  register(actor: number, handler: MessageHandler): void
  unregister(actor: number): void
  /** One-way message; the payload is copied before this returns. */
  send(to: NodeId, actor: number, type: number, payload: Uint8Array, opts?: SendOptions): void
  request(to: NodeId, actor: number, type: number, payload: Uint8Array, cb: ResponseCallback, opts?: RequestOptions): void
  requestAsync(to: NodeId, actor: number, type: number, payload: Uint8Array, opts?: RequestOptions): Promise<Uint8Array>
  reply(target: ReplyTarget, payload: Uint8Array, type?: number): void
  replyError(target: ReplyTarget, err: KvError): void
  isUp(node: NodeId): boolean
  /** Nodes currently reachable (this one included). */
  nodes(): NodeId[]
  /** Node up/down events; returns the unsubscribe function. */
  onNodeEvent(listener: NodeListener): () => void
  /** Handles the messages that have arrived but not been read yet (before deadlines are judged). */
  readInbound(): void
}
