/*
 * A FAKE CUDA driver, for tests only. It is NOT a GPU and proves nothing about GPU results: it
 * lets the tests exercise the native addon's marshalling, lifetimes and error paths on machines
 * without a GPU. Loaded through TILEKIT_CUDA_LIBRARY (see test/support/fake-cuda.ts).
 *
 * What it models: one device ("Tilekit fake CUDA device", made-up attributes); device memory is
 * host memory (a device pointer is a host pointer) with every allocation tracked, so copies and
 * memsets outside an allocation fail with CUDA_ERROR_INVALID_VALUE; events read a host clock;
 * "module load" accepts text containing `.entry NAME(...)` and records each entry's parameter
 * sizes from its `.param` list; text containing FAKE_JIT_ERROR fails with a JIT error log; a
 * launch runs nothing, checks dynamic shared memory against the function's limit (48 KB unless
 * raised with CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, at most the opt-in maximum) and
 * appends one JSON line (kernel, grid, block, shared bytes, each parameter's bytes in hex) to the
 * file named by $FAKE_CUDA_LAUNCH_LOG. $FAKE_CUDA_STATE names a file rewritten with the counts of
 * live allocations, modules, streams, events and context retains after every change, so tests can
 * check that dispose() really releases. $FAKE_CUDA_ON_LAUNCH=hang makes every launch block forever,
 * =abort makes it abort the process: what a hung or crashing kernel looks like to the tuner.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef int CUresult;
typedef unsigned long long CUdeviceptr;

enum {
  OK = 0, INVALID_VALUE = 1, OUT_OF_MEMORY = 2, NOT_INITIALIZED = 3, INVALID_DEVICE = 101, INVALID_PTX = 218,
  INVALID_HANDLE = 400, NOT_FOUND = 500
};

#define DEFAULT_DYNAMIC_SHARED (48 * 1024)
#define OPTIN_SHARED (227 * 1024)
#define MAX_PARAMS 64

static int initialized = 0;
static void report(void);
static int live_allocs = 0, live_modules = 0, live_streams = 0, live_events = 0;
static long launches = 0;

/* ---- errors ---- */
CUresult cuGetErrorName(CUresult r, const char** s) {
  switch (r) {
    case OK: *s = "CUDA_SUCCESS"; return OK;
    case INVALID_VALUE: *s = "CUDA_ERROR_INVALID_VALUE"; return OK;
    case OUT_OF_MEMORY: *s = "CUDA_ERROR_OUT_OF_MEMORY"; return OK;
    case NOT_INITIALIZED: *s = "CUDA_ERROR_NOT_INITIALIZED"; return OK;
    case INVALID_DEVICE: *s = "CUDA_ERROR_INVALID_DEVICE"; return OK;
    case INVALID_PTX: *s = "CUDA_ERROR_INVALID_PTX"; return OK;
    case INVALID_HANDLE: *s = "CUDA_ERROR_INVALID_HANDLE"; return OK;
    case NOT_FOUND: *s = "CUDA_ERROR_NOT_FOUND"; return OK;
  }
  *s = NULL;
  return INVALID_VALUE;
}
CUresult cuGetErrorString(CUresult r, const char** s) {
  switch (r) {
    case OK: *s = "no error"; return OK;
    case INVALID_VALUE: *s = "invalid argument"; return OK;
    case OUT_OF_MEMORY: *s = "out of memory"; return OK;
    case NOT_INITIALIZED: *s = "initialization error"; return OK;
    case INVALID_DEVICE: *s = "invalid device ordinal"; return OK;
    case INVALID_PTX: *s = "a PTX JIT compilation failed"; return OK;
    case INVALID_HANDLE: *s = "invalid resource handle"; return OK;
    case NOT_FOUND: *s = "named symbol not found"; return OK;
  }
  *s = NULL;
  return INVALID_VALUE;
}

/* ---- init and device ---- */
CUresult cuInit(unsigned flags) { (void)flags; initialized = 1; return OK; }
CUresult cuDriverGetVersion(int* v) { *v = 12040; return OK; }
CUresult cuDeviceGetCount(int* n) { if (!initialized) return NOT_INITIALIZED; *n = 1; return OK; }
CUresult cuDeviceGet(int* d, int i) { if (i != 0) return INVALID_DEVICE; *d = 0; return OK; }
CUresult cuDeviceGetName(char* name, int len, int d) {
  if (d != 0) return INVALID_DEVICE;
  snprintf(name, (size_t)len, "%s", "Tilekit fake CUDA device");
  return OK;
}
CUresult cuDeviceGetAttribute(int* v, int attr, int d) {
  if (d != 0) return INVALID_DEVICE;
  switch (attr) {
    case 1: *v = 1024; return OK;            /* max threads per block */
    case 8: *v = 48 * 1024; return OK;       /* shared per block */
    case 10: *v = 32; return OK;             /* warp size */
    case 12: *v = 65536; return OK;          /* registers per block */
    case 13: *v = 1234000; return OK;        /* clock, kHz */
    case 16: *v = 7; return OK;              /* SM count */
    case 33: *v = 42; return OK;             /* PCI bus */
    case 36: *v = 2600000; return OK;        /* memory clock, kHz */
    case 37: *v = 5120; return OK;           /* bus width */
    case 38: *v = 4 * 1024 * 1024; return OK; /* L2 */
    case 39: *v = 2048; return OK;           /* threads per SM */
    case 75: *v = 9; return OK;              /* cc major */
    case 76: *v = 0; return OK;              /* cc minor */
    case 81: *v = 228 * 1024; return OK;     /* shared per SM */
    case 97: *v = OPTIN_SHARED; return OK;   /* opt-in shared per block */
  }
  return INVALID_VALUE;
}
CUresult cuDeviceTotalMem_v2(size_t* bytes, int d) { if (d != 0) return INVALID_DEVICE; *bytes = (size_t)1 << 34; return OK; }

/* ---- contexts: one primary context with a retain count ---- */
static int primary_retains = 0;
static int primary_ctx_token;
static void* current_ctx = NULL;
CUresult cuDevicePrimaryCtxRetain(void** ctx, int d) {
  if (d != 0) return INVALID_DEVICE;
  primary_retains++; report();
  *ctx = &primary_ctx_token;
  return OK;
}
CUresult cuDevicePrimaryCtxRelease_v2(int d) {
  if (d != 0) return INVALID_DEVICE;
  if (primary_retains == 0) return INVALID_VALUE;
  primary_retains--; report();
  return OK;
}
CUresult cuCtxSetCurrent(void* ctx) { current_ctx = ctx; return OK; }
CUresult cuCtxSynchronize(void) { return current_ctx ? OK : 201; }

/* ---- memory ---- */
typedef struct Alloc { char* base; size_t bytes; struct Alloc* next; } Alloc;
static Alloc* allocs = NULL;

static Alloc* find_alloc(CUdeviceptr p, size_t n) {
  for (Alloc* a = allocs; a; a = a->next) {
    char* q = (char*)(uintptr_t)p;
    if (q >= a->base && q <= a->base + a->bytes && n <= (size_t)(a->base + a->bytes - q)) return a;
  }
  return NULL;
}
CUresult cuMemAlloc_v2(CUdeviceptr* p, size_t bytes) {
  if (!current_ctx) return 201;
  if (bytes == 0) return INVALID_VALUE;
  if (bytes > ((size_t)1 << 34)) return OUT_OF_MEMORY;
  Alloc* a = malloc(sizeof *a);
  a->base = aligned_alloc(256, (bytes + 255) / 256 * 256);
  a->bytes = bytes;
  a->next = allocs;
  allocs = a;
  live_allocs++; report();
  *p = (CUdeviceptr)(uintptr_t)a->base;
  return OK;
}
CUresult cuMemFree_v2(CUdeviceptr p) {
  for (Alloc** link = &allocs; *link; link = &(*link)->next) {
    if ((uintptr_t)(*link)->base == p) {
      Alloc* a = *link;
      *link = a->next;
      free(a->base);
      free(a);
      live_allocs--; report();
      return OK;
    }
  }
  return INVALID_VALUE;
}
CUresult cuMemcpyHtoD_v2(CUdeviceptr dst, const void* src, size_t n) {
  if (!find_alloc(dst, n)) return INVALID_VALUE;
  memcpy((void*)(uintptr_t)dst, src, n);
  return OK;
}
CUresult cuMemcpyDtoH_v2(void* dst, CUdeviceptr src, size_t n) {
  if (!find_alloc(src, n)) return INVALID_VALUE;
  memcpy(dst, (void*)(uintptr_t)src, n);
  return OK;
}
CUresult cuMemsetD8_v2(CUdeviceptr dst, unsigned char v, size_t n) {
  if (!find_alloc(dst, n)) return INVALID_VALUE;
  memset((void*)(uintptr_t)dst, v, n);
  return OK;
}

/* ---- modules: `.entry NAME ( .param .TYPE name, ... )` ---- */
typedef struct Function {
  char name[128];
  int nparams;
  int param_bytes[MAX_PARAMS];
  int max_dynamic_shared;
} Function;
typedef struct Module { int nfuncs; Function funcs[32]; } Module;

static int type_bytes(const char* t) {
  if (!strncmp(t, ".u64", 4) || !strncmp(t, ".s64", 4) || !strncmp(t, ".b64", 4) || !strncmp(t, ".f64", 4)) return 8;
  if (!strncmp(t, ".u32", 4) || !strncmp(t, ".s32", 4) || !strncmp(t, ".b32", 4) || !strncmp(t, ".f32", 4)) return 4;
  if (!strncmp(t, ".u16", 4) || !strncmp(t, ".s16", 4) || !strncmp(t, ".b16", 4) || !strncmp(t, ".f16", 4)) return 2;
  if (!strncmp(t, ".u8", 3) || !strncmp(t, ".s8", 3) || !strncmp(t, ".b8", 3)) return 1;
  return 0;
}

/* Parses the `(...)` after an entry name: the size of each `.param`. */
static int parse_params(const char* p, Function* f) {
  while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
  if (*p != '(') return 1; /* no parameter list: zero parameters */
  const char* end = strchr(p, ')');
  if (!end) return 0;
  const char* q = p;
  while ((q = strstr(q, ".param")) && q < end) {
    q += 6;
    while (*q == ' ' || *q == '\t') q++;
    int align = 0;
    if (!strncmp(q, ".align", 6)) { /* .param .align A .b8 name[N] */
      align = atoi(q + 6);
      q = strchr(q + 6, '.');
      if (!q || q >= end) return 0;
    }
    int bytes = type_bytes(q);
    const char* bracket = strchr(q, '[');
    const char* comma = strchr(q, ',');
    if (bracket && bracket < end && (!comma || bracket < comma)) bytes *= atoi(bracket + 1);
    (void)align;
    if (bytes == 0 || f->nparams == MAX_PARAMS) return 0;
    f->param_bytes[f->nparams++] = bytes;
  }
  return 1;
}

CUresult cuModuleLoadDataEx(void** module, const void* image, unsigned n, int* options, void** values) {
  char* error_log = NULL;
  size_t error_size = 0;
  char* info_log = NULL;
  size_t info_size = 0;
  for (unsigned i = 0; i < n; i++) {
    if (options[i] == 5) error_log = values[i];
    if (options[i] == 6) error_size = (size_t)(uintptr_t)values[i];
    if (options[i] == 3) info_log = values[i];
    if (options[i] == 4) info_size = (size_t)(uintptr_t)values[i];
  }
  const char* text = image;
  if (strstr(text, "FAKE_JIT_ERROR")) {
    if (error_log && error_size)
      snprintf(error_log, error_size, "ptxas fatal   : fake JIT rejected the module (it contains FAKE_JIT_ERROR)");
    return INVALID_PTX;
  }
  Module* m = calloc(1, sizeof *m);
  const char* p = text;
  while ((p = strstr(p, ".entry")) && m->nfuncs < 32) {
    p += 6;
    while (*p == ' ' || *p == '\t') p++;
    Function* f = &m->funcs[m->nfuncs];
    size_t k = 0;
    while ((p[k] == '_' || p[k] == '$' || (p[k] >= '0' && p[k] <= '9') || ((p[k] | 32) >= 'a' && (p[k] | 32) <= 'z')) &&
           k < sizeof f->name - 1) {
      f->name[k] = p[k];
      k++;
    }
    if (k == 0) continue;
    f->max_dynamic_shared = DEFAULT_DYNAMIC_SHARED;
    if (!parse_params(p + k, f)) {
      if (error_log && error_size) snprintf(error_log, error_size, "fake JIT: cannot parse the parameters of %s", f->name);
      free(m);
      return INVALID_PTX;
    }
    m->nfuncs++;
  }
  if (m->nfuncs == 0) {
    if (error_log && error_size) snprintf(error_log, error_size, "fake JIT: no .entry in the module");
    free(m);
    return INVALID_PTX;
  }
  if (info_log && info_size) snprintf(info_log, info_size, "fake JIT: %d entries", m->nfuncs);
  live_modules++; report();
  *module = m;
  return OK;
}
CUresult cuModuleUnload(void* module) {
  if (!module) return INVALID_HANDLE;
  free(module);
  live_modules--; report();
  return OK;
}
CUresult cuModuleGetFunction(void** fn, void* module, const char* name) {
  Module* m = module;
  if (!m) return INVALID_HANDLE;
  for (int i = 0; i < m->nfuncs; i++)
    if (!strcmp(m->funcs[i].name, name)) { *fn = &m->funcs[i]; return OK; }
  return NOT_FOUND;
}
CUresult cuFuncGetAttribute(int* v, int attr, void* fn) {
  Function* f = fn;
  switch (attr) {
    case 0: *v = 1024; return OK;
    case 1: *v = 0; return OK;
    case 3: *v = 0; return OK;
    case 4: *v = 32; return OK;
    case 8: *v = f->max_dynamic_shared; return OK;
  }
  return INVALID_VALUE;
}
CUresult cuFuncSetAttribute(void* fn, int attr, int value) {
  Function* f = fn;
  if (attr != 8) return INVALID_VALUE;
  if (value < 0 || value > OPTIN_SHARED) return INVALID_VALUE;
  f->max_dynamic_shared = value;
  return OK;
}

/* ---- launch: validate, then log ---- */
CUresult cuLaunchKernel(void* fn, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                        unsigned shared, void* stream, void** params, void** extra) {
  Function* f = fn;
  (void)stream;
  if (!f || extra) return INVALID_VALUE;
  if (!gx || !gy || !gz || !bx || !by || !bz || (unsigned long)bx * by * bz > 1024) return INVALID_VALUE;
  if ((int)shared > f->max_dynamic_shared) return INVALID_VALUE;
  if (f->nparams > 0 && !params) return INVALID_VALUE;
  launches++; report();
  /* Test hooks for the tuner's launch isolation: a kernel that never finishes, or one that kills its process. */
  const char* on_launch = getenv("FAKE_CUDA_ON_LAUNCH");
  if (on_launch && strcmp(on_launch, "hang") == 0) for (;;) pause();
  if (on_launch && strcmp(on_launch, "abort") == 0) abort();
  const char* path = getenv("FAKE_CUDA_LAUNCH_LOG");
  if (!path || !*path) return OK;
  FILE* out = fopen(path, "a");
  if (!out) return OK;
  fprintf(out, "{\"kernel\":\"%s\",\"grid\":[%u,%u,%u],\"block\":[%u,%u,%u],\"sharedBytes\":%u,\"params\":[", f->name, gx,
          gy, gz, bx, by, bz, shared);
  for (int i = 0; i < f->nparams; i++) {
    fprintf(out, "%s\"", i ? "," : "");
    const unsigned char* b = params[i];
    for (int k = 0; k < f->param_bytes[i]; k++) fprintf(out, "%02x", b[k]);
    fprintf(out, "\"");
  }
  fprintf(out, "]}\n");
  fclose(out);
  return OK;
}

/* ---- streams and events (host clock) ---- */
CUresult cuStreamCreate(void** s, unsigned flags) { (void)flags; *s = malloc(1); live_streams++; report(); return OK; }
CUresult cuStreamDestroy_v2(void* s) { if (!s) return INVALID_HANDLE; free(s); live_streams--; report(); return OK; }
CUresult cuStreamSynchronize(void* s) { (void)s; return OK; }
CUresult cuEventCreate(void** e, unsigned flags) {
  (void)flags;
  double* t = malloc(sizeof *t);
  *t = -1;
  *e = t;
  live_events++;
  report();
  return OK;
}
CUresult cuEventDestroy_v2(void* e) { if (!e) return INVALID_HANDLE; free(e); live_events--; report(); return OK; }
CUresult cuEventRecord(void* e, void* s) {
  (void)s;
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  *(double*)e = ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
  return OK;
}
CUresult cuEventSynchronize(void* e) { (void)e; return OK; }
CUresult cuEventElapsedTime(float* ms, void* a, void* b) {
  double ta = *(double*)a, tb = *(double*)b;
  if (ta < 0 || tb < 0) return 600; /* CUDA_ERROR_NOT_READY: never recorded */
  *ms = (float)(tb - ta);
  return OK;
}

/* ---- test hook: what is still alive, rewritten to $FAKE_CUDA_STATE after every change ---- */
static void report(void) {
  const char* path = getenv("FAKE_CUDA_STATE");
  if (!path || !*path) return;
  FILE* out = fopen(path, "w");
  if (!out) return;
  fprintf(out, "{\"allocations\":%d,\"modules\":%d,\"streams\":%d,\"events\":%d,\"retains\":%d,\"launches\":%ld}\n",
          live_allocs, live_modules, live_streams, live_events, primary_retains, launches);
  fclose(out);
}
