// lib/transport: the Transport interface cluster code sends through, and its implementations.
// Code outside this folder imports only this file.

export type { IncomingMessage, MessageHandler, NodeId, NodeListener, ReplyTarget, RequestOptions, ResponseCallback, SendOptions, Transport } from './transport'
export { LocalTransport } from './local_transport'
