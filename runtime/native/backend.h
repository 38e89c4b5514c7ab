// One interface over the two driver APIs (CUDA driver, HIP runtime), so the bindings in addon.cc
// are written once. Handles are opaque pointers; every failing call throws DriverError.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace tilekit {

struct DeviceInfo {
  std::string name;
  std::string arch;  // "sm_90" (CUDA: from the compute capability) or "gfx942" (HIP)
  int ccMajor = 0, ccMinor = 0;
  int multiprocessors = 0;  // SMs or CUs
  size_t totalMemory = 0;
  int clockKHz = 0, memoryClockKHz = 0, memoryBusWidthBits = 0;
  int l2CacheBytes = 0;
  int warpSize = 0;
  int maxThreadsPerBlock = 0, maxThreadsPerMultiprocessor = 0;
  int sharedPerBlock = 0;        // without opt-in
  int sharedPerBlockOptin = 0;   // the most a kernel may raise its limit to
  int sharedPerMultiprocessor = 0;
  int registersPerBlock = 0;
  int pciBusId = 0;
};

struct FunctionInfo {
  int numRegs = 0, staticSharedBytes = 0, localBytes = 0, maxThreadsPerBlock = 0, maxDynamicSharedBytes = 0;
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual const char* api() const = 0;           // "cuda" | "hip"
  virtual const std::string& library() const = 0;  // the path or soname that was opened
  virtual int driverVersion() const = 0;
  virtual int deviceCount() = 0;
  virtual DeviceInfo query(int index) = 0;

  // A retained context for a device (CUDA: its primary context; HIP: the device index itself).
  virtual void* retain(int index) = 0;
  virtual void release(int index, void* ctx) noexcept = 0;
  virtual void makeCurrent(int index, void* ctx) = 0;
  virtual void synchronize() = 0;

  virtual uint64_t alloc(size_t bytes) = 0;
  virtual void free(uint64_t ptr) noexcept = 0;
  virtual void copyToDevice(uint64_t dst, const void* src, size_t bytes) = 0;
  virtual void copyToHost(void* dst, uint64_t src, size_t bytes) = 0;
  virtual void memset8(uint64_t dst, uint8_t value, size_t bytes) = 0;

  // `image` is PTX text (NUL-terminated by the caller), a cubin/fatbin or a HIP code object.
  // `infoLog` receives the JIT's info log where the API has one.
  virtual void* loadModule(const void* image, std::string& infoLog) = 0;
  virtual void unloadModule(void* module) noexcept = 0;
  virtual void* getFunction(void* module, const std::string& name) = 0;
  virtual FunctionInfo functionInfo(void* fn, const std::string& name) = 0;
  virtual void setMaxDynamicShared(void* fn, const std::string& name, int bytes) = 0;
  virtual void launch(void* fn, const std::string& name, const unsigned grid[3], const unsigned block[3],
                      unsigned sharedBytes, void* stream, void** params) = 0;

  virtual void* createStream() = 0;
  virtual void destroyStream(void* stream) noexcept = 0;
  virtual void synchronizeStream(void* stream) = 0;
  virtual void* createEvent() = 0;
  virtual void destroyEvent(void* event) noexcept = 0;
  virtual void recordEvent(void* event, void* stream) = 0;
  virtual void synchronizeEvent(void* event) = 0;
  virtual float elapsedMs(void* start, void* end) = 0;
};

// The backend for this process, opened on first use: CUDA ($TILEKIT_CUDA_LIBRARY or libcuda.so.1),
// else HIP ($TILEKIT_HIP_LIBRARY or libamdhip64.so). Throws NoDriverError naming what was tried.
Backend& backend();

// Opens one driver or returns null with `why` saying what was tried (defined in cuda_driver.cc /
// hip_driver.cc).
Backend* openCuda(std::string& why);
Backend* openHip(std::string& why);

}  // namespace tilekit
