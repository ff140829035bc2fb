// lib/storage/memtable: the engine's in-memory ordered table of entries (FORMAT.md §1 order).
export { Memtable, MemEntry, type MemtableOptions } from './memtable'
export { keyString } from './key_string'
export { MemtableIterator } from './memtable_iterator'
