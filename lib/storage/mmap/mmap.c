// ringwood_mmap: a minimal N-API addon that maps a file read-only and hands the mapping to
// JavaScript as an external ArrayBuffer. The mapping is unmapped by the ArrayBuffer's
// finalizer, i.e. only once no JavaScript object (the ArrayBuffer or any view of it) can
// reach it: a view into a mapping can never outlive the mapping. See lib/storage/mmap/README.md.
//
// N-API only (no V8 or libuv symbols): the addon is context-aware and loads in worker threads.

#include <node_api.h>
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <stdint.h>
#include <stdio.h>

#define CHECK(env, call)                                                    \
  do {                                                                      \
    if ((call) != napi_ok) {                                                \
      napi_throw_error((env), "RINGWOOD_MMAP", "N-API call failed: " #call); \
      return NULL;                                                          \
    }                                                                       \
  } while (0)

static void finalize_mapping(napi_env env, void* data, void* hint) {
  (void)env;
  size_t length = (size_t)(uintptr_t)hint;
  if (data != NULL && length > 0) munmap(data, length);
}

// map(fd: number, length: number): ArrayBuffer
static napi_value Map(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 2) {
    napi_throw_type_error(env, "RINGWOOD_MMAP", "map(fd, length) takes two arguments");
    return NULL;
  }
  int32_t fd;
  double length_d;
  CHECK(env, napi_get_value_int32(env, argv[0], &fd));
  CHECK(env, napi_get_value_double(env, argv[1], &length_d));
  if (fd < 0 || length_d < 0 || length_d > 9007199254740991.0) {
    napi_throw_range_error(env, "RINGWOOD_MMAP", "map: bad fd or length");
    return NULL;
  }
  size_t length = (size_t)length_d;
  napi_value result;
  if (length == 0) {
    void* unused;
    CHECK(env, napi_create_arraybuffer(env, 0, &unused, &result));
    return result;
  }
  void* addr = mmap(NULL, length, PROT_READ, MAP_SHARED, fd, 0);
  if (addr == MAP_FAILED) {
    char msg[128];
    snprintf(msg, sizeof msg, "mmap failed: %s", strerror(errno));
    napi_throw_error(env, "RINGWOOD_MMAP", msg);
    return NULL;
  }
  napi_status st = napi_create_external_arraybuffer(env, addr, length, finalize_mapping,
                                                    (void*)(uintptr_t)length, &result);
  if (st != napi_ok) {
    munmap(addr, length);
    napi_throw_error(env, "RINGWOOD_MMAP", "napi_create_external_arraybuffer failed");
    return NULL;
  }
  return result;
}

// advise(buffer: ArrayBuffer, advice: 'random' | 'sequential' | 'willneed'): void
static napi_value Advise(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 2) return NULL;
  void* data;
  size_t length;
  CHECK(env, napi_get_arraybuffer_info(env, argv[0], &data, &length));
  char advice[16];
  size_t n;
  CHECK(env, napi_get_value_string_utf8(env, argv[1], advice, sizeof advice, &n));
  int a = MADV_NORMAL;
  if (strcmp(advice, "random") == 0) a = MADV_RANDOM;
  else if (strcmp(advice, "sequential") == 0) a = MADV_SEQUENTIAL;
  else if (strcmp(advice, "willneed") == 0) a = MADV_WILLNEED;
  if (data != NULL && length > 0) madvise(data, length, a);
  return NULL;
}

static napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"map", NULL, Map, NULL, NULL, NULL, napi_default, NULL},
      {"advise", NULL, Advise, NULL, NULL, NULL, napi_default, NULL},
  };
  CHECK(env, napi_define_properties(env, exports, 2, props));
  return exports;
}

NAPI_MODULE_INIT() { return Init(env, exports); }
