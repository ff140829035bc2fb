// lib/util: small, dependency-free helpers used by every layer.
export * from './bytes'
export * from './clock'
export * from './crc32c'
export * from './hash'
export * from './prng'
export * from './varint'
