// lib/storage/wal: the commit log (FORMAT.md §2): record framing, group-commit writer, recovery
// reader and the dump tool.
export * from './log_format'
export * from './log_writer'
export * from './log_reader'
export { dumpWal } from './dump'
