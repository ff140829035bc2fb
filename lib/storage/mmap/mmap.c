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
#include <stdlib.h>
#include <fcntl.h>
#include <unistd.h>
#include <pthread.h>
#include <sys/file.h>

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

// hugePages(view: TypedArray): boolean. Asks the kernel to back the view's memory with
// transparent huge pages (MADV_HUGEPAGE) where THP is in "madvise" mode: for large tables read
// at random (the shared read caches), where 4 KiB pages cost a TLB miss per read. Works on a
// view of a SharedArrayBuffer. Only the whole pages inside the view are advised; call it before
// the memory is first touched. Returns whether the kernel took the advice.
static napi_value HugePages(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  napi_value result;
  int ok = 0;
#ifdef MADV_HUGEPAGE
  napi_typedarray_type type;
  size_t length;
  void* data;
  if (argc >= 1 && napi_get_typedarray_info(env, argv[0], &type, &length, &data, NULL, NULL) == napi_ok && data != NULL) {
    size_t bytes = length;
    if (type == napi_int32_array || type == napi_uint32_array || type == napi_float32_array) bytes = length * 4;
    else if (type == napi_int16_array || type == napi_uint16_array) bytes = length * 2;
    else if (type == napi_float64_array || type == napi_bigint64_array || type == napi_biguint64_array) bytes = length * 8;
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t start = ((uintptr_t)data + page - 1) & ~(page - 1);
    uintptr_t end = ((uintptr_t)data + bytes) & ~(page - 1);
    if (end > start) ok = madvise((void*)start, end - start, MADV_HUGEPAGE) == 0;
  }
#endif
  CHECK(env, napi_get_boolean(env, ok, &result));
  return result;
}

// Directory locks. flock() gives one holder per open file description across processes (and
// the kernel drops it when a process dies, even by SIGKILL). Within one process, worker threads
// share descriptors, so a process-wide table (this library is loaded once per process) records
// which lock files are held; a thread that dies without closing can be cleaned up by `unlock`.
#define LOCKS_MAX 4096  /* = lockedDirectoriesMax in lib/constants.ts */
static struct { char* path; int fd; } locks[LOCKS_MAX];
static pthread_mutex_t locks_mu = PTHREAD_MUTEX_INITIALIZER;

static int get_path(napi_env env, napi_value v, char* out, size_t cap) {
  size_t n;
  if (napi_get_value_string_utf8(env, v, out, cap, &n) != napi_ok || n + 1 >= cap) {
    napi_throw_type_error(env, "RINGWOOD_MMAP", "path must be a string shorter than 4096 bytes");
    return 0;
  }
  return 1;
}

// lock(path): 0 = taken; 1 = held in this process; 2 = held by another process; throws on I/O errors.
static napi_value Lock(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  char path[4096];
  if (argc < 1 || !get_path(env, argv[0], path, sizeof path)) return NULL;
  int status = 0;
  pthread_mutex_lock(&locks_mu);
  int free_slot = -1;
  for (int i = 0; i < LOCKS_MAX; i++) {
    if (locks[i].path == NULL) { if (free_slot < 0) free_slot = i; continue; }
    if (strcmp(locks[i].path, path) == 0) { status = 1; break; }
  }
  if (status == 0 && free_slot < 0) status = -ENFILE;
  if (status == 0) {
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) status = -errno;
    else if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
      status = (errno == EWOULDBLOCK) ? 2 : -errno;
      close(fd);
    } else {
      locks[free_slot].path = strdup(path);
      locks[free_slot].fd = fd;
    }
  }
  pthread_mutex_unlock(&locks_mu);
  if (status < 0) {
    char msg[160];
    snprintf(msg, sizeof msg, "lock failed: %s", strerror(-status));
    napi_throw_error(env, "RINGWOOD_LOCK", msg);
    return NULL;
  }
  napi_value result;
  CHECK(env, napi_create_int32(env, status, &result));
  return result;
}

// unlock(path): releases a lock this process holds; returns whether it held one.
static napi_value Unlock(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  char path[4096];
  if (argc < 1 || !get_path(env, argv[0], path, sizeof path)) return NULL;
  int held = 0;
  pthread_mutex_lock(&locks_mu);
  for (int i = 0; i < LOCKS_MAX; i++) {
    if (locks[i].path != NULL && strcmp(locks[i].path, path) == 0) {
      close(locks[i].fd);  // closing the descriptor releases the flock
      free(locks[i].path);
      locks[i].path = NULL;
      held = 1;
      break;
    }
  }
  pthread_mutex_unlock(&locks_mu);
  napi_value result;
  CHECK(env, napi_get_boolean(env, held, &result));
  return result;
}

static napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"map", NULL, Map, NULL, NULL, NULL, napi_default, NULL},
      {"advise", NULL, Advise, NULL, NULL, NULL, napi_default, NULL},
      {"lock", NULL, Lock, NULL, NULL, NULL, napi_default, NULL},
      {"unlock", NULL, Unlock, NULL, NULL, NULL, napi_default, NULL},
      {"hugePages", NULL, HugePages, NULL, NULL, NULL, napi_default, NULL},
  };
  CHECK(env, napi_define_properties(env, exports, 5, props));
  return exports;
}

NAPI_MODULE_INIT() { return Init(env, exports); }
