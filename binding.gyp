{
  "targets": [
    {
      "target_name": "ringwood_mmap",
      "sources": ["lib/storage/mmap/mmap.c"],
      "cflags": ["-O2", "-Wall", "-Wextra"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
