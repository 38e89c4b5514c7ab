// Ownership of driver resources. A DeviceContext is one retained context; each resource made in it
// (buffer, module, stream, event) registers itself, so disposing the device first releases what is
// still alive (deterministically, while the context is still valid), then the context. Each
// resource releases at most once: dispose(), its device's dispose, or its finalizer, whichever
// comes first; later use is a DisposedError.
#pragma once

#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "backend.h"
#include "gpu_error.h"

namespace tilekit {

struct Resource;

struct DeviceContext {
  Backend* backend;
  int index;
  void* handle;
  bool released = false;
  std::unordered_set<Resource*> children;

  DeviceContext(Backend* b, int i) : backend(b), index(i), handle(b->retain(i)) {}
  ~DeviceContext() { release(); }

  // Makes the context current for a call about `what`; throws if the device was disposed.
  void use(const char* what) {
    if (released) throw DisposedError(std::string(what) + " used after its Device was disposed");
    backend->makeCurrent(index, handle);
  }
  void release() noexcept;
};

struct Resource {
  std::shared_ptr<DeviceContext> ctx;
  const char* kind;  // "Buffer", "Module", ... for messages
  bool released = false;

  Resource(std::shared_ptr<DeviceContext> c, const char* k) : ctx(std::move(c)), kind(k) {}
  virtual ~Resource() = default;

  void attach() { ctx->children.insert(this); }
  // Frees the driver handle unless the context is gone (which took the handle with it).
  void release() noexcept {
    if (released) return;
    released = true;
    if (!ctx->released) {
      try {
        ctx->backend->makeCurrent(ctx->index, ctx->handle);
      } catch (...) {
      }
      freeHandle();
    }
    ctx->children.erase(this);
  }
  // Throws unless usable; makes the context current.
  void use() {
    if (released) throw DisposedError(std::string(kind) + " used after dispose()");
    ctx->use(kind);
  }

 protected:
  virtual void freeHandle() noexcept = 0;
};

inline void DeviceContext::release() noexcept {
  if (released) return;
  try {
    backend->makeCurrent(index, handle);
    backend->synchronize();  // nothing may still run on memory about to be freed
  } catch (...) {
  }
  std::vector<Resource*> alive(children.begin(), children.end());
  for (Resource* r : alive) r->release();
  backend->release(index, handle);
  released = true;
}

}  // namespace tilekit
