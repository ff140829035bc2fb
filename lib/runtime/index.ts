// lib/runtime: the actor runtime (spec: RUNTIME.md). Code outside this folder imports only this.

export { Runtime, type RuntimeOptions } from './runtime'
export type { CallOptions } from './supervisor'
export { Endpoint, type EndpointOptions, type EndpointStats, type Handler, type PayloadWriter, type PeerListener, type RequestOptions, type SendOptions } from './endpoint'
export { Message, unknownType, type ReplyTarget } from './message'
export type { ResponseCallback } from './request_table'
export type { NodeContext, NodeControl, SetupNode } from './control'
export type { IdlePolicy } from './receive_loop'
export { threadShares, threadTimes, type ThreadTimes } from './thread'
export { ECHO_ACTOR, registerEcho } from './echo_actor'
export { Kind } from './envelope'
// Ring primitives, for unit tests and dump tools.
export { createRing, RingReader, RingWriter, fragmentBytesMax } from './ring'
