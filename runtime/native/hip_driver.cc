// The HIP backend: opens the HIP runtime (libamdhip64.so) with dlopen and implements Backend with
// hip* calls. UNTESTED ON HARDWARE: no AMD GPU (and no fake HIP library) has run this file; it is
// compiled everywhere so it cannot rot silently, and its first run on an MI300X is still owed.
// Attribute numbers are ROCm 6.x's hipDeviceAttribute_t (they changed between ROCm 5 and 6).
#include <dlfcn.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "backend.h"
#include "gpu_error.h"

namespace tilekit {
namespace {

using hipError_t = int;
constexpr hipError_t hipSuccess = 0;
constexpr hipError_t hipErrorNoDevice = 100;

// hipDeviceAttribute_t (ROCm 6.x numbering).
constexpr int kAttrClockRate = 5;
constexpr int kAttrL2CacheSize = 19;
constexpr int kAttrComputeCapabilityMajor = 23;
constexpr int kAttrMaxThreadsPerBlock = 56;
constexpr int kAttrMaxThreadsPerMultiProcessor = 57;
constexpr int kAttrMemoryBusWidth = 59;
constexpr int kAttrMemoryClockRate = 60;
constexpr int kAttrComputeCapabilityMinor = 61;
constexpr int kAttrMultiprocessorCount = 63;
constexpr int kAttrPciBusId = 67;
constexpr int kAttrMaxRegistersPerBlock = 71;
constexpr int kAttrMaxSharedMemoryPerBlock = 74;
constexpr int kAttrSharedMemPerBlockOptin = 75;
constexpr int kAttrSharedMemPerMultiprocessor = 76;
constexpr int kAttrWarpSize = 87;
// hipFunction_attribute.
constexpr int kFuncMaxThreadsPerBlock = 0, kFuncSharedSizeBytes = 1, kFuncLocalSizeBytes = 3, kFuncNumRegs = 4,
              kFuncMaxDynamicSharedSizeBytes = 8;

struct HipApi {
  hipError_t (*hipInit)(unsigned);
  hipError_t (*hipDriverGetVersion)(int*);
  const char* (*hipGetErrorName)(hipError_t);
  const char* (*hipGetErrorString)(hipError_t);
  hipError_t (*hipGetDeviceCount)(int*);
  hipError_t (*hipDeviceGetName)(char*, int, int);
  hipError_t (*hipDeviceTotalMem)(size_t*, int);
  hipError_t (*hipDeviceGetAttribute)(int*, int, int);
  hipError_t (*hipGetDeviceProperties)(void*, int);  // only scanned for the gfx arch name, see query()
  hipError_t (*hipSetDevice)(int);
  hipError_t (*hipDeviceSynchronize)();
  hipError_t (*hipMalloc)(void**, size_t);
  hipError_t (*hipFree)(void*);
  hipError_t (*hipMemcpyHtoD)(void*, const void*, size_t);
  hipError_t (*hipMemcpyDtoH)(void*, void*, size_t);
  hipError_t (*hipMemset)(void*, int, size_t);
  hipError_t (*hipModuleLoadData)(void**, const void*);
  hipError_t (*hipModuleUnload)(void*);
  hipError_t (*hipModuleGetFunction)(void**, void*, const char*);
  hipError_t (*hipFuncGetAttribute)(int*, int, void*);
  hipError_t (*hipModuleLaunchKernel)(void*, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, void*,
                                      void**, void**);
  hipError_t (*hipStreamCreateWithFlags)(void**, unsigned);
  hipError_t (*hipStreamDestroy)(void*);
  hipError_t (*hipStreamSynchronize)(void*);
  hipError_t (*hipEventCreate)(void**);
  hipError_t (*hipEventDestroy)(void*);
  hipError_t (*hipEventRecord)(void*, void*);
  hipError_t (*hipEventSynchronize)(void*);
  hipError_t (*hipEventElapsedTime)(float*, void*, void*);
};

class HipBackend final : public Backend {
 public:
  HipBackend(void* handle, std::string path) : handle_(handle), path_(std::move(path)) {}

  bool resolve(std::string& missing) {
    auto sym = [&](const char* name) -> void* {
      void* p = dlsym(handle_, name);
      if (!p && missing.empty()) missing = name;
      return p;
    };
#define TK_RESOLVE(field) api_.field = reinterpret_cast<decltype(api_.field)>(sym(#field))
    TK_RESOLVE(hipInit);
    TK_RESOLVE(hipDriverGetVersion);
    TK_RESOLVE(hipGetErrorName);
    TK_RESOLVE(hipGetErrorString);
    TK_RESOLVE(hipGetDeviceCount);
    TK_RESOLVE(hipDeviceGetName);
    TK_RESOLVE(hipDeviceTotalMem);
    TK_RESOLVE(hipDeviceGetAttribute);
    TK_RESOLVE(hipSetDevice);
    TK_RESOLVE(hipDeviceSynchronize);
    TK_RESOLVE(hipMalloc);
    TK_RESOLVE(hipFree);
    TK_RESOLVE(hipMemcpyHtoD);
    TK_RESOLVE(hipMemcpyDtoH);
    TK_RESOLVE(hipMemset);
    TK_RESOLVE(hipModuleLoadData);
    TK_RESOLVE(hipModuleUnload);
    TK_RESOLVE(hipModuleGetFunction);
    TK_RESOLVE(hipFuncGetAttribute);
    TK_RESOLVE(hipModuleLaunchKernel);
    TK_RESOLVE(hipStreamCreateWithFlags);
    TK_RESOLVE(hipStreamDestroy);
    TK_RESOLVE(hipStreamSynchronize);
    TK_RESOLVE(hipEventCreate);
    TK_RESOLVE(hipEventDestroy);
    TK_RESOLVE(hipEventRecord);
    TK_RESOLVE(hipEventSynchronize);
    TK_RESOLVE(hipEventElapsedTime);
#undef TK_RESOLVE
    // ROCm 6 renamed the struct-filling call (its layout changed); either is only scanned.
    void* props = dlsym(handle_, "hipGetDevicePropertiesR0600");
    if (!props) props = dlsym(handle_, "hipGetDeviceProperties");
    api_.hipGetDeviceProperties = reinterpret_cast<decltype(api_.hipGetDeviceProperties)>(props);
    return missing.empty();
  }
  void init() {
    initResult_ = api_.hipInit(0);
    if (initResult_ == hipSuccess) api_.hipDriverGetVersion(&version_);
  }

  const char* api() const override { return "hip"; }
  const std::string& library() const override { return path_; }
  int driverVersion() const override { return version_; }
  int deviceCount() override {
    if (initResult_ == hipErrorNoDevice) return 0;
    checkInit();
    int n = 0;
    check(api_.hipGetDeviceCount(&n), "hipGetDeviceCount");
    return n;
  }
  DeviceInfo query(int index) override {
    checkInit();
    DeviceInfo d;
    char name[256] = {0};
    check(api_.hipDeviceGetName(name, sizeof name - 1, index), "hipDeviceGetName");
    d.name = name;
    check(api_.hipDeviceTotalMem(&d.totalMemory, index), "hipDeviceTotalMem");
    auto attr = [&](int a, const char* what) {
      int v = 0;
      check(api_.hipDeviceGetAttribute(&v, a, index), std::string("hipDeviceGetAttribute(") + what + ")");
      return v;
    };
    d.ccMajor = attr(kAttrComputeCapabilityMajor, "ComputeCapabilityMajor");
    d.ccMinor = attr(kAttrComputeCapabilityMinor, "ComputeCapabilityMinor");
    d.multiprocessors = attr(kAttrMultiprocessorCount, "MultiprocessorCount");
    d.clockKHz = attr(kAttrClockRate, "ClockRate");
    d.memoryClockKHz = attr(kAttrMemoryClockRate, "MemoryClockRate");
    d.memoryBusWidthBits = attr(kAttrMemoryBusWidth, "MemoryBusWidth");
    d.l2CacheBytes = attr(kAttrL2CacheSize, "L2CacheSize");
    d.warpSize = attr(kAttrWarpSize, "WarpSize");
    d.maxThreadsPerBlock = attr(kAttrMaxThreadsPerBlock, "MaxThreadsPerBlock");
    d.maxThreadsPerMultiprocessor = attr(kAttrMaxThreadsPerMultiProcessor, "MaxThreadsPerMultiProcessor");
    d.sharedPerBlock = attr(kAttrMaxSharedMemoryPerBlock, "MaxSharedMemoryPerBlock");
    d.sharedPerBlockOptin = attr(kAttrSharedMemPerBlockOptin, "SharedMemPerBlockOptin");
    d.sharedPerMultiprocessor = attr(kAttrSharedMemPerMultiprocessor, "SharedMemPerMultiprocessor");
    d.registersPerBlock = attr(kAttrMaxRegistersPerBlock, "MaxRegistersPerBlock");
    d.pciBusId = attr(kAttrPciBusId, "PciBusId");
    d.arch = gfxArch(index);
    return d;
  }
  void* retain(int index) override {
    checkInit();
    check(api_.hipSetDevice(index), "hipSetDevice(" + std::to_string(index) + ")");
    return reinterpret_cast<void*>(static_cast<intptr_t>(index) + 1);  // non-null token
  }
  void release(int, void*) noexcept override {}
  void makeCurrent(int index, void*) override { check(api_.hipSetDevice(index), "hipSetDevice"); }
  void synchronize() override { check(api_.hipDeviceSynchronize(), "hipDeviceSynchronize"); }

  uint64_t alloc(size_t bytes) override {
    void* p = nullptr;
    check(api_.hipMalloc(&p, bytes), "hipMalloc(" + std::to_string(bytes) + " bytes)");
    return reinterpret_cast<uintptr_t>(p);
  }
  void free(uint64_t p) noexcept override { api_.hipFree(ptr(p)); }
  void copyToDevice(uint64_t dst, const void* src, size_t n) override { check(api_.hipMemcpyHtoD(ptr(dst), src, n), "hipMemcpyHtoD"); }
  void copyToHost(void* dst, uint64_t src, size_t n) override { check(api_.hipMemcpyDtoH(dst, ptr(src), n), "hipMemcpyDtoH"); }
  void memset8(uint64_t dst, uint8_t v, size_t n) override { check(api_.hipMemset(ptr(dst), v, n), "hipMemset"); }

  void* loadModule(const void* image, std::string&) override {
    void* m = nullptr;
    check(api_.hipModuleLoadData(&m, image), "hipModuleLoadData");
    return m;
  }
  void unloadModule(void* m) noexcept override { api_.hipModuleUnload(m); }
  void* getFunction(void* m, const std::string& name) override {
    void* f = nullptr;
    check(api_.hipModuleGetFunction(&f, m, name.c_str()), "hipModuleGetFunction(" + name + ")");
    return f;
  }
  FunctionInfo functionInfo(void* fn, const std::string& name) override {
    auto attr = [&](int a) {
      int v = 0;
      check(api_.hipFuncGetAttribute(&v, a, fn), "hipFuncGetAttribute(" + name + ")");
      return v;
    };
    FunctionInfo i;
    i.numRegs = attr(kFuncNumRegs);
    i.staticSharedBytes = attr(kFuncSharedSizeBytes);
    i.localBytes = attr(kFuncLocalSizeBytes);
    i.maxThreadsPerBlock = attr(kFuncMaxThreadsPerBlock);
    i.maxDynamicSharedBytes = attr(kFuncMaxDynamicSharedSizeBytes);
    return i;
  }
  // AMD has no opt-in step: a module kernel may use up to the device's LDS size directly.
  void setMaxDynamicShared(void*, const std::string&, int) override {}
  void launch(void* fn, const std::string& name, const unsigned g[3], const unsigned b[3], unsigned shared, void* stream,
              void** params) override {
    check(api_.hipModuleLaunchKernel(fn, g[0], g[1], g[2], b[0], b[1], b[2], shared, stream, params, nullptr),
          "hipModuleLaunchKernel(" + name + ")");
  }
  void* createStream() override {
    void* s = nullptr;
    check(api_.hipStreamCreateWithFlags(&s, 1 /* hipStreamNonBlocking */), "hipStreamCreateWithFlags");
    return s;
  }
  void destroyStream(void* s) noexcept override { api_.hipStreamDestroy(s); }
  void synchronizeStream(void* s) override { check(api_.hipStreamSynchronize(s), "hipStreamSynchronize"); }
  void* createEvent() override {
    void* e = nullptr;
    check(api_.hipEventCreate(&e), "hipEventCreate");
    return e;
  }
  void destroyEvent(void* e) noexcept override { api_.hipEventDestroy(e); }
  void recordEvent(void* e, void* s) override { check(api_.hipEventRecord(e, s), "hipEventRecord"); }
  void synchronizeEvent(void* e) override { check(api_.hipEventSynchronize(e), "hipEventSynchronize"); }
  float elapsedMs(void* a, void* b) override {
    float ms = 0;
    check(api_.hipEventElapsedTime(&ms, a, b), "hipEventElapsedTime");
    return ms;
  }

 private:
  static void* ptr(uint64_t p) { return reinterpret_cast<void*>(static_cast<uintptr_t>(p)); }

  // hipDeviceProp_t's layout differs between ROCm releases, so instead of declaring it, fill a
  // generously sized buffer and take the first "gfx…" string after the 256-byte name field
  // (gcnArchName, e.g. "gfx942:sramecc+:xnack-"), up to the first ':'.
  std::string gfxArch(int index) {
    if (!api_.hipGetDeviceProperties) return "";
    std::vector<char> buf(64 * 1024, 0);
    if (api_.hipGetDeviceProperties(buf.data(), index) != hipSuccess) return "";
    for (size_t i = 256; i + 4 < buf.size(); i++) {
      if (buf[i - 1] == 0 && std::strncmp(&buf[i], "gfx", 3) == 0) {
        std::string s(&buf[i], strnlen(&buf[i], buf.size() - i));
        return s.substr(0, s.find(':'));
      }
    }
    return "";
  }
  void checkInit() {
    if (initResult_ != hipSuccess) throw err(initResult_, "hipInit");
  }
  DriverError err(hipError_t r, const std::string& call) {
    const char* name = api_.hipGetErrorName(r);
    const char* text = api_.hipGetErrorString(r);
    return DriverError("hip", call, r, name ? name : "hipError " + std::to_string(r),
                       text ? text : "unknown error " + std::to_string(r));
  }
  void check(hipError_t r, const std::string& call) {
    if (r != hipSuccess) throw err(r, call);
  }

  void* handle_;
  std::string path_;
  HipApi api_{};
  hipError_t initResult_ = 0;
  int version_ = 0;
};

}  // namespace

Backend* openHip(std::string& why) {
  std::vector<std::string> candidates;
  const char* over = std::getenv("TILEKIT_HIP_LIBRARY");
  if (over && *over) {
    candidates.push_back(over);
  } else {
    candidates.push_back("libamdhip64.so");
    candidates.push_back("/opt/rocm/lib/libamdhip64.so");
  }
  std::string tried;
  for (const std::string& path : candidates) {
    void* h = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!h) {
      const char* e = dlerror();
      tried += (tried.empty() ? "" : "; ") + (e ? std::string(e) : path + ": cannot open");
      continue;
    }
    auto b = std::make_unique<HipBackend>(h, path);
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
