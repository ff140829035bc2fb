// lib/storage: the LSM storage engine (DESIGN.md, FORMAT.md). Code outside this folder imports
// only from here.
export { Engine, type BatchOp, type EngineStats, type IteratorOptions, type PutOptions, type ReadOptions, type Snapshot, type WriteOptions } from './engine'
export type { EngineOptions, Durability, ReaderKind } from './options'
export type { RepairReport } from './recovery'
export { DbIterator, type KeyValue, type RangeOptions } from './iterator/db_iterator'
export { RealFs } from './fs/real_fs'
export type { FileSystem, AppendFile } from './fs/file_system'
