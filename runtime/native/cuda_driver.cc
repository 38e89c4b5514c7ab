// The CUDA backend: opens the driver with dlopen (never linked), resolves the versioned entry
// points by name and implements Backend on the primary context of each device.
#include <dlfcn.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "backend.h"
#include "cuda_api.h"
#include "gpu_error.h"

namespace tilekit {
namespace {

// Where libcuda usually is when the soname alone is not in the loader's cache (containers, WSL).
const char* const kCudaFallbacks[] = {"/usr/lib/x86_64-linux-gnu/libcuda.so.1", "/usr/lib64/libcuda.so.1",
                                      "/usr/local/nvidia/lib64/libcuda.so.1", "/usr/lib/wsl/lib/libcuda.so.1"};

class CudaBackend final : public Backend {
 public:
  CudaBackend(void* handle, std::string path) : handle_(handle), path_(std::move(path)) {}

  // Resolves every entry point; false (with `missing`) if the library lacks one.
  bool resolve(std::string& missing) {
    auto sym = [&](const char* name) -> void* {
      void* p = dlsym(handle_, name);
      if (!p && missing.empty()) missing = name;
      return p;
    };
#define TK_RESOLVE(field, symbol) api_.field = reinterpret_cast<decltype(api_.field)>(sym(symbol))
    TK_RESOLVE(cuInit, "cuInit");
    TK_RESOLVE(cuDriverGetVersion, "cuDriverGetVersion");
    TK_RESOLVE(cuGetErrorName, "cuGetErrorName");
    TK_RESOLVE(cuGetErrorString, "cuGetErrorString");
    TK_RESOLVE(cuDeviceGetCount, "cuDeviceGetCount");
    TK_RESOLVE(cuDeviceGet, "cuDeviceGet");
    TK_RESOLVE(cuDeviceGetName, "cuDeviceGetName");
    TK_RESOLVE(cuDeviceGetAttribute, "cuDeviceGetAttribute");
    TK_RESOLVE(cuDeviceTotalMem_v2, "cuDeviceTotalMem_v2");
    TK_RESOLVE(cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain");
    TK_RESOLVE(cuDevicePrimaryCtxRelease_v2, "cuDevicePrimaryCtxRelease_v2");
    TK_RESOLVE(cuCtxSetCurrent, "cuCtxSetCurrent");
    TK_RESOLVE(cuCtxSynchronize, "cuCtxSynchronize");
    TK_RESOLVE(cuMemAlloc_v2, "cuMemAlloc_v2");
    TK_RESOLVE(cuMemFree_v2, "cuMemFree_v2");
    TK_RESOLVE(cuMemcpyHtoD_v2, "cuMemcpyHtoD_v2");
    TK_RESOLVE(cuMemcpyDtoH_v2, "cuMemcpyDtoH_v2");
    TK_RESOLVE(cuMemsetD8_v2, "cuMemsetD8_v2");
    TK_RESOLVE(cuModuleLoadDataEx, "cuModuleLoadDataEx");
    TK_RESOLVE(cuModuleUnload, "cuModuleUnload");
    TK_RESOLVE(cuModuleGetFunction, "cuModuleGetFunction");
    TK_RESOLVE(cuFuncGetAttribute, "cuFuncGetAttribute");
    TK_RESOLVE(cuFuncSetAttribute, "cuFuncSetAttribute");
    TK_RESOLVE(cuLaunchKernel, "cuLaunchKernel");
    TK_RESOLVE(cuStreamCreate, "cuStreamCreate");
    TK_RESOLVE(cuStreamDestroy_v2, "cuStreamDestroy_v2");
    TK_RESOLVE(cuStreamSynchronize, "cuStreamSynchronize");
    TK_RESOLVE(cuEventCreate, "cuEventCreate");
    TK_RESOLVE(cuEventDestroy_v2, "cuEventDestroy_v2");
    TK_RESOLVE(cuEventRecord, "cuEventRecord");
    TK_RESOLVE(cuEventSynchronize, "cuEventSynchronize");
#undef TK_RESOLVE
    // cuEventElapsedTime_v2 exists from CUDA 12.8 on; older drivers only have the original.
    void* elapsed = dlsym(handle_, "cuEventElapsedTime_v2");
    if (!elapsed) elapsed = sym("cuEventElapsedTime");
    api_.cuEventElapsedTime = reinterpret_cast<decltype(api_.cuEventElapsedTime)>(elapsed);
    return missing.empty();
  }

  // cuInit; CUDA_ERROR_NO_DEVICE (a driver without a GPU) is remembered as "0 devices", any other
  // failure is reported by the first call that needs the driver.
  void init() {
    initResult_ = api_.cuInit(0);
    if (initResult_ == CUDA_SUCCESS) api_.cuDriverGetVersion(&version_);
  }

  const char* api() const override { return "cuda"; }
  const std::string& library() const override { return path_; }
  int driverVersion() const override { return version_; }

  int deviceCount() override {
    if (initResult_ == kNoDevice) return 0;
    checkInit();
    int n = 0;
    check(api_.cuDeviceGetCount(&n), "cuDeviceGetCount");
    return n;
  }

  DeviceInfo query(int index) override {
    CUdevice dev = device(index);
    DeviceInfo d;
    char name[256] = {0};
    check(api_.cuDeviceGetName(name, sizeof name - 1, dev), "cuDeviceGetName");
    d.name = name;
    check(api_.cuDeviceTotalMem_v2(&d.totalMemory, dev), "cuDeviceTotalMem_v2");
    auto attr = [&](int a, const char* what) {
      int v = 0;
      check(api_.cuDeviceGetAttribute(&v, a, dev), std::string("cuDeviceGetAttribute(") + what + ")");
      return v;
    };
    d.ccMajor = attr(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, "COMPUTE_CAPABILITY_MAJOR");
    d.ccMinor = attr(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, "COMPUTE_CAPABILITY_MINOR");
    d.arch = "sm_" + std::to_string(d.ccMajor) + std::to_string(d.ccMinor);
    d.multiprocessors = attr(CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, "MULTIPROCESSOR_COUNT");
    d.clockKHz = attr(CU_DEVICE_ATTRIBUTE_CLOCK_RATE, "CLOCK_RATE");
    d.memoryClockKHz = attr(CU_DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE, "MEMORY_CLOCK_RATE");
    d.memoryBusWidthBits = attr(CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH, "GLOBAL_MEMORY_BUS_WIDTH");
    d.l2CacheBytes = attr(CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE, "L2_CACHE_SIZE");
    d.warpSize = attr(CU_DEVICE_ATTRIBUTE_WARP_SIZE, "WARP_SIZE");
    d.maxThreadsPerBlock = attr(CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK, "MAX_THREADS_PER_BLOCK");
    d.maxThreadsPerMultiprocessor = attr(CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_MULTIPROCESSOR, "MAX_THREADS_PER_MULTIPROCESSOR");
    d.sharedPerBlock = attr(CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK, "MAX_SHARED_MEMORY_PER_BLOCK");
    d.sharedPerBlockOptin = attr(CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN, "MAX_SHARED_MEMORY_PER_BLOCK_OPTIN");
    d.sharedPerMultiprocessor = attr(CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_MULTIPROCESSOR, "MAX_SHARED_MEMORY_PER_MULTIPROCESSOR");
    d.registersPerBlock = attr(CU_DEVICE_ATTRIBUTE_MAX_REGISTERS_PER_BLOCK, "MAX_REGISTERS_PER_BLOCK");
    d.pciBusId = attr(CU_DEVICE_ATTRIBUTE_PCI_BUS_ID, "PCI_BUS_ID");
    return d;
  }

  void* retain(int index) override {
    CUdevice dev = device(index);
    CUcontext ctx = nullptr;
    check(api_.cuDevicePrimaryCtxRetain(&ctx, dev), "cuDevicePrimaryCtxRetain");
    return ctx;
  }
  void release(int index, void*) noexcept override {
    CUdevice dev = 0;
    if (api_.cuDeviceGet(&dev, index) == CUDA_SUCCESS) api_.cuDevicePrimaryCtxRelease_v2(dev);
  }
  void makeCurrent(int, void* ctx) override { check(api_.cuCtxSetCurrent(static_cast<CUcontext>(ctx)), "cuCtxSetCurrent"); }
  void synchronize() override { check(api_.cuCtxSynchronize(), "cuCtxSynchronize"); }

  uint64_t alloc(size_t bytes) override {
    CUdeviceptr p = 0;
    check(api_.cuMemAlloc_v2(&p, bytes), "cuMemAlloc_v2(" + std::to_string(bytes) + " bytes)");
    return p;
  }
  void free(uint64_t p) noexcept override { api_.cuMemFree_v2(p); }
  void copyToDevice(uint64_t dst, const void* src, size_t n) override { check(api_.cuMemcpyHtoD_v2(dst, src, n), "cuMemcpyHtoD_v2"); }
  void copyToHost(void* dst, uint64_t src, size_t n) override { check(api_.cuMemcpyDtoH_v2(dst, src, n), "cuMemcpyDtoH_v2"); }
  void memset8(uint64_t dst, uint8_t v, size_t n) override { check(api_.cuMemsetD8_v2(dst, v, n), "cuMemsetD8_v2"); }

  void* loadModule(const void* image, std::string& infoLog) override {
    // The JIT writes its logs into these buffers; on failure the error log goes into the error.
    std::vector<char> info(16384, 0), error(16384, 0);
    CUjit_option opts[] = {CU_JIT_INFO_LOG_BUFFER, CU_JIT_INFO_LOG_BUFFER_SIZE_BYTES, CU_JIT_ERROR_LOG_BUFFER,
                           CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES, CU_JIT_LOG_VERBOSE};
    void* values[] = {info.data(), reinterpret_cast<void*>(static_cast<uintptr_t>(info.size() - 1)), error.data(),
                      reinterpret_cast<void*>(static_cast<uintptr_t>(error.size() - 1)), reinterpret_cast<void*>(1)};
    CUmodule m = nullptr;
    CUresult r = api_.cuModuleLoadDataEx(&m, image, 5, opts, values);
    infoLog = info.data();
    if (r != CUDA_SUCCESS) throw err(r, "cuModuleLoadDataEx", std::string(error.data()));
    return m;
  }
  void unloadModule(void* m) noexcept override { api_.cuModuleUnload(static_cast<CUmodule>(m)); }
  void* getFunction(void* m, const std::string& name) override {
    CUfunction f = nullptr;
    check(api_.cuModuleGetFunction(&f, static_cast<CUmodule>(m), name.c_str()), "cuModuleGetFunction(" + name + ")");
    return f;
  }
  FunctionInfo functionInfo(void* fn, const std::string& name) override {
    auto f = static_cast<CUfunction>(fn);
    auto attr = [&](int a) {
      int v = 0;
      check(api_.cuFuncGetAttribute(&v, a, f), "cuFuncGetAttribute(" + name + ")");
      return v;
    };
    FunctionInfo i;
    i.numRegs = attr(CU_FUNC_ATTRIBUTE_NUM_REGS);
    i.staticSharedBytes = attr(CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES);
    i.localBytes = attr(CU_FUNC_ATTRIBUTE_LOCAL_SIZE_BYTES);
    i.maxThreadsPerBlock = attr(CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK);
    i.maxDynamicSharedBytes = attr(CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES);
    return i;
  }
  void setMaxDynamicShared(void* fn, const std::string& name, int bytes) override {
    check(api_.cuFuncSetAttribute(static_cast<CUfunction>(fn), CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, bytes),
          "cuFuncSetAttribute(" + name + ", MAX_DYNAMIC_SHARED_SIZE_BYTES=" + std::to_string(bytes) + ")");
  }
  void launch(void* fn, const std::string& name, const unsigned g[3], const unsigned b[3], unsigned shared, void* stream,
              void** params) override {
    check(api_.cuLaunchKernel(static_cast<CUfunction>(fn), g[0], g[1], g[2], b[0], b[1], b[2], shared,
                              static_cast<CUstream>(stream), params, nullptr),
          "cuLaunchKernel(" + name + ")");
  }

  void* createStream() override {
    CUstream s = nullptr;
    check(api_.cuStreamCreate(&s, CU_STREAM_NON_BLOCKING), "cuStreamCreate");
    return s;
  }
  void destroyStream(void* s) noexcept override { api_.cuStreamDestroy_v2(static_cast<CUstream>(s)); }
  void synchronizeStream(void* s) override { check(api_.cuStreamSynchronize(static_cast<CUstream>(s)), "cuStreamSynchronize"); }
  void* createEvent() override {
    CUevent e = nullptr;
    check(api_.cuEventCreate(&e, CU_EVENT_DEFAULT), "cuEventCreate");
    return e;
  }
  void destroyEvent(void* e) noexcept override { api_.cuEventDestroy_v2(static_cast<CUevent>(e)); }
  void recordEvent(void* e, void* s) override { check(api_.cuEventRecord(static_cast<CUevent>(e), static_cast<CUstream>(s)), "cuEventRecord"); }
  void synchronizeEvent(void* e) override { check(api_.cuEventSynchronize(static_cast<CUevent>(e)), "cuEventSynchronize"); }
  float elapsedMs(void* a, void* b) override {
    float ms = 0;
    check(api_.cuEventElapsedTime(&ms, static_cast<CUevent>(a), static_cast<CUevent>(b)), "cuEventElapsedTime");
    return ms;
  }

 private:
  static constexpr CUresult kNoDevice = 100;  // CUDA_ERROR_NO_DEVICE

  CUdevice device(int index) {
    checkInit();
    CUdevice dev = 0;
    check(api_.cuDeviceGet(&dev, index), "cuDeviceGet(" + std::to_string(index) + ")");
    return dev;
  }
  void checkInit() {
    if (initResult_ != CUDA_SUCCESS) throw err(initResult_, "cuInit");
  }
  DriverError err(CUresult r, const std::string& call, std::string log = "") {
    const char* name = nullptr;
    const char* text = nullptr;
    if (api_.cuGetErrorName(r, &name) != CUDA_SUCCESS || !name) name = nullptr;
    if (api_.cuGetErrorString(r, &text) != CUDA_SUCCESS || !text) text = nullptr;
    return DriverError("cuda", call, r, name ? name : "CUDA_ERROR_" + std::to_string(r),
                       text ? text : "unknown error " + std::to_string(r), std::move(log));
  }
  void check(CUresult r, const std::string& call) {
    if (r != CUDA_SUCCESS) throw err(r, call);
  }

  void* handle_;
  std::string path_;
  CudaApi api_{};
  CUresult initResult_ = 0;
  int version_ = 0;
};

}  // namespace

Backend* openCuda(std::string& why) {
  std::vector<std::string> candidates;
  const char* over = std::getenv("TILEKIT_CUDA_LIBRARY");
  if (over && *over) {
    candidates.push_back(over);  // an override is the only candidate: tests rely on that
  } else {
    candidates.push_back("libcuda.so.1");
    for (const char* p : kCudaFallbacks) candidates.push_back(p);
  }
  std::string tried;
  for (const std::string& path : candidates) {
    void* h = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!h) {
      const char* e = dlerror();
      tried += (tried.empty() ? "" : "; ") + (e ? std::string(e) : path + ": cannot open");
      continue;
    }
    auto b = std::make_unique<CudaBackend>(h, path);
    std::string missing;
    if (!b->resolve(missing)) {
      tried += (tried.empty() ? "" : "; ") + path + ": has no " + missing;
      dlclose(h);
      continue;
    }
    b->init();
    return b.release();
  }
  why = tried;
  return nullptr;
}

}  // namespace tilekit
