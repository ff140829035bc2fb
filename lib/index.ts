// The public API of ringwood (`import { open } from 'ringwood'`): re-exports only.

export { open, Database, Admin } from './db'
export type { GetResult, WriteResult, SetOptions, GetOptions, DeleteOptions, SetEntry, Bytes, NodeInfoView, HintsView, ClusterStats, OpenOptions, HintOptions, Coordination } from './db'
export { KvError, ErrorCodes, isKvError, type ErrorCode } from './errors'
export type { Resolver, Sibling, LevelName, ClusterDurability } from './cluster'
