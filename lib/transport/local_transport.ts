// The Transport over the local runtime's mailboxes: a thin adapter on one runtime Endpoint
// (the supervisor's, or a node's in its setup module). No logic of its own: ordering,
// backpressure, deadlines and failure semantics are the runtime's (lib/runtime/RUNTIME.md).

import type { KvError } from '../errors'
import type { Endpoint } from '../runtime'
import type { MessageHandler, NodeId, NodeListener, ReplyTarget, RequestOptions, ResponseCallback, SendOptions, Transport } from './transport'

export class LocalTransport implements Transport {
  constructor(readonly endpoint: Endpoint) {}

  get self(): NodeId {
    return this.endpoint.id
  }

  register(actor: number, handler: MessageHandler): void {
    this.endpoint.register(actor, handler)
  }

  unregister(actor: number): void {
    this.endpoint.unregister(actor)
  }

  send(to: NodeId, actor: number, type: number, payload: Uint8Array, opts?: SendOptions): void {
    this.endpoint.send(to, actor, type, payload, opts)
  }

  request(to: NodeId, actor: number, type: number, payload: Uint8Array, cb: ResponseCallback, opts?: RequestOptions): void {
    this.endpoint.request(to, actor, type, payload, cb, opts)
  }

  requestAsync(to: NodeId, actor: number, type: number, payload: Uint8Array, opts?: RequestOptions): Promise<Uint8Array> {
    return this.endpoint.requestAsync(to, actor, type, payload, opts)
  }

  readInbound(): void {
    this.endpoint.readInbound()
  }

  reply(target: ReplyTarget, payload: Uint8Array, type?: number): void {
    this.endpoint.reply(target, payload, type)
  }

  replyError(target: ReplyTarget, err: KvError): void {
    this.endpoint.replyError(target, err)
  }

  isUp(node: NodeId): boolean {
    return this.endpoint.isUp(node)
  }

  nodes(): NodeId[] {
    return this.endpoint.peerIds()
  }

  onNodeEvent(listener: NodeListener): () => void {
    return this.endpoint.onPeer((id, up) => listener(id, up))
  }
}
