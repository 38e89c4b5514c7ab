// Which driver this process uses: CUDA when it opens and has a device, else HIP when it does, else
// whichever opened (so its 0 devices or its init error is reported), else NoDriverError.
#include <cstdlib>
#include <map>
#include <string>

#include "backend.h"
#include "gpu_error.h"

namespace tilekit {

Backend& backend() {
  // Keyed by the override variables so a test can switch drivers within one process; a backend once
  // opened stays (resources made from it may outlive the switch), and failures are not cached.
  static std::map<std::string, Backend*> opened;
  const char* cudaEnv = std::getenv("TILEKIT_CUDA_LIBRARY");
  const char* hipEnv = std::getenv("TILEKIT_HIP_LIBRARY");
  std::string key = std::string(cudaEnv ? cudaEnv : "") + '\n' + (hipEnv ? hipEnv : "");
  auto it = opened.find(key);
  if (it != opened.end()) return *it->second;

  auto usable = [](Backend* b) {
    try {
      return b->deviceCount() > 0;
    } catch (const DriverError&) {
      return true;  // a driver that fails to initialize is reported, not skipped
    }
  };
  std::string whyCuda, whyHip;
  Backend* cuda = openCuda(whyCuda);
  Backend* chosen = cuda && usable(cuda) ? cuda : nullptr;
  if (!chosen) {
    Backend* hip = openHip(whyHip);
    if (hip && usable(hip)) chosen = hip;
    else chosen = cuda ? cuda : hip;
  }
  if (!chosen) {
    std::string cudaName = cudaEnv && *cudaEnv ? std::string("TILEKIT_CUDA_LIBRARY=") + cudaEnv : "libcuda.so.1";
    std::string hipName = hipEnv && *hipEnv ? std::string("TILEKIT_HIP_LIBRARY=") + hipEnv : "libamdhip64.so";
    throw NoDriverError("no GPU driver found: looked for " + cudaName + " (" + whyCuda + ") and " + hipName + " (" +
                        whyHip + ")");
  }
  opened[key] = chosen;
  return *chosen;
}

}  // namespace tilekit
