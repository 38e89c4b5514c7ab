// The errors the native side raises; addon.cc turns each into a JavaScript Error whose properties
// runtime/gpu/native.ts maps onto the classes of runtime/gpu/errors.ts.
#pragma once

#include <stdexcept>
#include <string>

namespace tilekit {

// A driver call returned an error: the call (with its subject, e.g. "cuModuleGetFunction(gemm)"),
// the driver's name and message for the code, and the JIT log when a module load produced one.
struct DriverError : std::runtime_error {
  std::string api;   // "cuda" | "hip"
  std::string call;
  int code;
  std::string name;
  std::string detail;
  std::string log;
  DriverError(std::string api_, std::string call_, int code_, std::string name_, std::string detail_,
              std::string log_ = "")
      : std::runtime_error(call_ + ": " + name_ + ": " + detail_ + (log_.empty() ? "" : "\n" + log_)),
        api(std::move(api_)), call(std::move(call_)), code(code_), name(std::move(name_)),
        detail(std::move(detail_)), log(std::move(log_)) {}
};

// An object was used after dispose() (or after the device or module it came from was disposed).
struct DisposedError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Neither driver library could be opened; the message lists what was tried, with dlerror().
struct NoDriverError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace tilekit
