// Messages the coordinator machines ask drivers to send, and effects they return
// (PROTOCOL.md §5.3–§5.5). Objects travel decoded here; drivers encode them (§4.2) for the wire.

import type { KvError } from '../../errors'
import type { ClientWrite } from '../versioning/conflict_policy'
import type { Context, DvvObject } from '../versioning/dvv_object'

export type ReplicaMessage =
  /** To the coordinating replica itself: apply a client write (applyClientWrite) and reply with the object. */
  | { readonly kind: 'coordinateWrite'; readonly key: Buffer; readonly write: ClientWrite }
  /** Store by sync; a fallback stores a hint for `hintFor` instead. */
  | { readonly kind: 'replicate'; readonly key: Buffer; readonly object: DvvObject; readonly hintFor?: number | undefined }
  /** Reply with the stored object (or hint object on a fallback), or not found. */
  | { readonly kind: 'read'; readonly key: Buffer }
  /** Read repair: store by sync, uncapped. */
  | { readonly kind: 'repair'; readonly key: Buffer; readonly object: DvvObject }

export type PutResult = { readonly ok: true; readonly context: Context } | { readonly ok: false; readonly error: KvError }
export type GetResult = { readonly ok: true; readonly object: DvvObject | undefined } | { readonly ok: false; readonly error: KvError }

export type CoordinatorEffect<R> =
  | { readonly type: 'send'; readonly node: number; readonly message: ReplicaMessage }
  | { readonly type: 'reply'; readonly result: R }
  /** The machine has nothing more to do; the driver may drop it and its timers. */
  | { readonly type: 'done' }

export type ReplicaReply =
  | { readonly type: 'reply'; readonly node: number; readonly ok: true; readonly object?: DvvObject | undefined; readonly context?: Context | undefined }
  | { readonly type: 'reply'; readonly node: number; readonly ok: false; readonly error: KvError }

export type CoordinatorInput = ReplicaReply | { readonly type: 'replicaTimeout'; readonly node: number } | { readonly type: 'deadline' }
