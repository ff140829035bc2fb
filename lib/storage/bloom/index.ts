// lib/storage/bloom: the SSTable bloom filter (FORMAT.md §3.3), builder and reader.
export { BloomBuilder, bloomHashSeed, bloomProbes } from './bloom_builder'
export { BloomReader } from './bloom_reader'
