// The N-API bindings: one JavaScript class per resource (Device, Buffer, Module, Function, Stream,
// Event) over the Backend. runtime/gpu/ wraps these in the typed API; nothing else should use them.
// Errors leave as JavaScript Errors with a `tilekitKind` property ("driver", "no-driver",
// "disposed", "usage") plus the driver's details, which runtime/gpu/native.ts turns into classes.
#include <napi.h>

#include <memory>
#include <string>

#include "backend.h"
#include "gpu_error.h"
#include "resources.h"

namespace tilekit {
namespace {

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

Napi::Error jsError(Napi::Env env, const char* kind, const std::string& message) {
  Napi::Error e = Napi::Error::New(env, message);
  e.Value().Set("tilekitKind", kind);
  return e;
}

// Runs a binding body, turning native exceptions into JavaScript errors.
template <typename F>
auto guarded(Napi::Env env, F body) -> decltype(body()) {
  try {
    return body();
  } catch (const DriverError& d) {
    Napi::Error e = jsError(env, "driver", d.what());
    Napi::Object o = e.Value();
    o.Set("api", d.api);
    o.Set("call", d.call);
    o.Set("driverCode", d.name);
    o.Set("driverNumber", d.code);
    o.Set("driverMessage", d.detail);
    if (!d.log.empty()) o.Set("log", d.log);
    throw e;
  } catch (const NoDriverError& d) {
    throw jsError(env, "no-driver", d.what());
  } catch (const DisposedError& d) {
    throw jsError(env, "disposed", d.what());
  } catch (const UsageError& d) {
    throw jsError(env, "usage", d.what());
  }
}

template <typename T>
T* unwrapArg(const Napi::Value& v, const char* what) {
  if (!v.IsObject()) throw UsageError(std::string("expected a ") + what);
  Napi::Object o = v.As<Napi::Object>();
  if (!o.InstanceOf(T::constructor(v.Env()).Value())) throw UsageError(std::string("expected a ") + what);
  return Napi::ObjectWrap<T>::Unwrap(o);
}

// Per-addon-instance constructors, so unwrapArg can check instanceof.
struct Constructors {
  Napi::FunctionReference device, buffer, module, function, stream, event;
};
Constructors& ctors(Napi::Env env) { return *env.GetInstanceData<Constructors>(); }

Napi::Object infoObject(Napi::Env env, const DeviceInfo& d) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("name", d.name);
  o.Set("arch", d.arch);
  o.Set("computeCapability", std::to_string(d.ccMajor) + "." + std::to_string(d.ccMinor));
  o.Set("multiprocessors", d.multiprocessors);
  o.Set("totalMemoryBytes", static_cast<double>(d.totalMemory));
  o.Set("clockKHz", d.clockKHz);
  o.Set("memoryClockKHz", d.memoryClockKHz);
  o.Set("memoryBusWidthBits", d.memoryBusWidthBits);
  o.Set("l2CacheBytes", d.l2CacheBytes);
  o.Set("warpSize", d.warpSize);
  o.Set("maxThreadsPerBlock", d.maxThreadsPerBlock);
  o.Set("maxThreadsPerMultiprocessor", d.maxThreadsPerMultiprocessor);
  o.Set("sharedBytesPerBlock", d.sharedPerBlock);
  o.Set("sharedBytesPerBlockOptin", d.sharedPerBlockOptin);
  o.Set("sharedBytesPerMultiprocessor", d.sharedPerMultiprocessor);
  o.Set("registersPerBlock", d.registersPerBlock);
  o.Set("pciBusId", d.pciBusId);
  return o;
}

// ---- Device ----------------------------------------------------------------------------------
class NativeDevice : public Napi::ObjectWrap<NativeDevice> {
 public:
  static Napi::FunctionReference& constructor(Napi::Env env) { return ctors(env).device; }
  static Napi::Function define(Napi::Env env) {
    return DefineClass(env, "NativeDevice",
                       {InstanceMethod<&NativeDevice::info>("info"), InstanceMethod<&NativeDevice::synchronize>("synchronize"),
                        InstanceMethod<&NativeDevice::dispose>("dispose"),
                        InstanceAccessor<&NativeDevice::disposed>("disposed")});
  }
  NativeDevice(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativeDevice>(info) {
    guarded(info.Env(), [&] {
      int index = info[0].IsNumber() ? info[0].As<Napi::Number>().Int32Value() : 0;
      Backend& b = backend();
      int count = b.deviceCount();
      if (index < 0 || index >= count)
        throw UsageError("no GPU device " + std::to_string(index) + ": the " + b.api() + " driver (" + b.library() +
                         ") reports " + std::to_string(count) + " device(s)");
      ctx = std::make_shared<DeviceContext>(&b, index);
      return 0;
    });
  }
  // The finalizer only drops this handle's share: resources still reachable from JavaScript keep
  // the context alive, and the last of them to go releases it.
  ~NativeDevice() override { ctx.reset(); }
  std::shared_ptr<DeviceContext> ctx;
  bool isDisposed = false;

  std::shared_ptr<DeviceContext> live(const char* what) {
    if (isDisposed) throw DisposedError(std::string(what) + ": the Device was disposed");
    return ctx;
  }

 private:
  // The context itself lives on while resources made from it hold it, but they are all released
  // here, so dispose() frees everything the device owned.
  void disposeNow() {
    if (isDisposed || !ctx) return;
    isDisposed = true;
    ctx->release();
    ctx.reset();
  }
  Napi::Value info(const Napi::CallbackInfo& i) {
    return guarded(i.Env(), [&] {
      auto c = live("Device.info");
      c->use("Device");
      return Napi::Value(infoObject(i.Env(), c->backend->query(c->index)));
    });
  }
  Napi::Value synchronize(const Napi::CallbackInfo& i) {
    return guarded(i.Env(), [&] {
      auto c = live("Device.synchronize");
      c->use("Device");
      c->backend->synchronize();
      return i.Env().Undefined();
    });
  }
  Napi::Value dispose(const Napi::CallbackInfo& i) {
    disposeNow();
    return i.Env().Undefined();
  }
  Napi::Value disposed(const Napi::CallbackInfo& i) { return Napi::Boolean::New(i.Env(), isDisposed); }
};

// ---- Buffer ----------------------------------------------------------------------------------
struct BufferState : Resource {
  uint64_t ptr = 0;
  size_t bytes = 0;
  BufferState(std::shared_ptr<DeviceContext> c, size_t n) : Resource(std::move(c), "Buffer"), bytes(n) {
    ctx->use("Buffer");
    ptr = ctx->backend->alloc(n == 0 ? 1 : n);  // a zero-byte allocation is an error in CUDA
    attach();
  }
  ~BufferState() override { release(); }
  void freeHandle() noexcept override { ctx->backend->free(ptr); }
};

// Returns (data, length) of a typed array or DataView argument.
std::pair<uint8_t*, size_t> bytesOf(const Napi::Value& v, const char* what) {
  if (v.IsTypedArray()) {
    auto t = v.As<Napi::TypedArray>();
    auto ab = t.ArrayBuffer();
    return {static_cast<uint8_t*>(ab.Data()) + t.ByteOffset(), t.ByteLength()};
  }
  if (v.IsDataView()) {
    auto d = v.As<Napi::DataView>();
    return {static_cast<uint8_t*>(d.ArrayBuffer().Data()) + d.ByteOffset(), d.ByteLength()};
  }
  throw UsageError(std::string(what) + " must be a typed array");
}

size_t sizeArg(const Napi::Value& v, const char* what) {
  if (!v.IsNumber()) throw UsageError(std::string(what) + " must be a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0) || d != static_cast<double>(static_cast<uint64_t>(d)))
    throw UsageError(std::string(what) + " must be a non-negative integer, got " + std::to_string(d));
  return static_cast<size_t>(d);
}

class NativeBuffer : public Napi::ObjectWrap<NativeBuffer> {
 public:
  static Napi::FunctionReference& constructor(Napi::Env env) { return ctors(env).buffer; }
  static Napi::Function define(Napi::Env env) {
    return DefineClass(env, "NativeBuffer",
                       {InstanceMethod<&NativeBuffer::upload>("upload"), InstanceMethod<&NativeBuffer::download>("download"),
                        InstanceMethod<&NativeBuffer::memset>("memset"), InstanceMethod<&NativeBuffer::dispose>("dispose"),
                        InstanceAccessor<&NativeBuffer::pointer>("pointer"), InstanceAccessor<&NativeBuffer::bytes>("bytes"),
                        InstanceAccessor<&NativeBuffer::disposed>("disposed")});
  }
  NativeBuffer(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativeBuffer>(info) {
    guarded(info.Env(), [&] {
      auto* dev = unwrapArg<NativeDevice>(info[0], "NativeDevice");
      state = std::make_shared<BufferState>(dev->live("Buffer.alloc"), sizeArg(info[1], "bytes"));
      return 0;
    });
  }
  std::shared_ptr<BufferState> state;

 private:
  void range(size_t offset, size_t n, const char* what) {
    if (offset > state->bytes || n > state->bytes - offset)
      throw UsageError(std::string(what) + ": " + std::to_string(n) + " bytes at offset " + std::to_string(offset) +
                       " do not fit in a buffer of " + std::to_string(state->bytes) + " bytes");
  }
  Napi::Value upload(const Napi::CallbackInfo& i) {
    return guarded(i.Env(), [&] {
      state->use();
      auto [data, n] = bytesOf(i[0], "upload source");
      size_t offset = i.Length() > 1 ? sizeArg(i[1], "offset") : 0;
      range(offset, n, "Buffer.upload");
      if (n) state->ctx->backend->copyToDevice(state->ptr + offset, data, n);
      return i.Env().Undefined();
    });
  }
  Napi::Value download(const Napi::CallbackInfo& i) {
    return guarded(i.Env(), [&] {
      state->use();
      auto [data, n] = bytesOf(i[0], "download target");
      size_t offset = i.Length() > 1 ? sizeArg(i[1], "offset") : 0;
      range(offset, n, "Buffer.download");
      if (n) state->ctx->backend->copyToHost(data, state->ptr + offset, n);
      return i.Env().Undefined();
    });
  }
  Napi::Value memset(const Napi::CallbackInfo& i) {
    return guarded(i.Env(), [&] {
      state->use();
      size_t value = sizeArg(i[0], "memset value");
      if (value > 255) throw UsageError("memset value must be a byte (0..255)");
      size_t offset = i.Length() > 1 ? sizeArg(i[1], "offset") : 0;
      size_t n = i.Length() > 2 ? sizeArg(i[2], "bytes") : state->bytes - std::min(offset, state->bytes);
      range(offset, n, "Buffer.memset");
      if (n) state->ctx->backend->memset8(state->ptr + offset, static_cast<uint8_t>(value), n);
      return i.Env().Undefined();
    });
  }
  Napi::Value dispose(const Napi::CallbackInfo& i) {
    state->release();
    return i.Env().Undefined();
  }
  Napi::Value pointer(const Napi::CallbackInfo& i) {
    return guarded(i.Env(), [&] {
      if (state->released) throw DisposedError("Buffer used after dispose()");
      return Napi::Value(Napi::BigInt::New(i.Env(), static_cast<uint64_t>(state->ptr)));
    });
  }
  Napi::Value bytes(const Napi::CallbackInfo& i) { return Napi::Number::New(i.Env(), static_cast<double>(state->bytes)); }
  Napi::Value disposed(const Napi::CallbackInfo& i) { return Napi::Boolean::New(i.Env(), state->released); }
};

// ---- Module and Function -----------------------------------------------------------------------
struct ModuleState : Resource {
  void* handle = nullptr;
  std::string infoLog;
  ModuleState(std::shared_ptr<DeviceContext> c, const void* image) : Resource(std::move(c), "Module") {
    ctx->use("Module");
    handle = ctx->backend->loadModule(image, infoLog);
    attach();
  }
  ~ModuleState() override { release(); }
  void freeHandle() noexcept override { ctx->backend->unloadModule(handle); }
};

class NativeModule : public Napi::ObjectWrap<NativeModule> {
 public:
  static Napi::FunctionReference& constructor(Napi::Env env) { return ctors(env).module; }
  static Napi::Function define(Napi::Env env) {
    return DefineClass(env, "NativeModule",
                       {InstanceMethod<&NativeModule::dispose>("dispose"), InstanceAccessor<&NativeModule::infoLog>("infoLog"),
                        InstanceAccessor<&NativeModule::disposed>("disposed")});
  }
  // (device, image bytes): PTX must arrive NUL-terminated (runtime/gpu adds the NUL).
  NativeModule(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativeModule>(info) {
    guarded(info.Env(), [&] {
      auto* dev = unwrapArg<NativeDevice>(info[0], "NativeDevice");
      auto [data, n] = bytesOf(info[1], "module image");
      if (n == 0) throw UsageError("module image is empty");
      state = std::make_shared<ModuleState>(dev->live("Module.load"), data);
      return 0;
    });
  }
  std::shared_ptr<ModuleState> state;

 private:
  Napi::Value dispose(const Napi::CallbackInfo& i) {
    state->release();
    return i.Env().Undefined();
  }
  Napi::Value infoLog(const Napi::CallbackInfo& i) { return Napi::String::New(i.Env(), state->infoLog); }
  Napi::Value disposed(const Napi::CallbackInfo& i) { return Napi::Boolean::New(i.Env(), state->released); }
};

struct StreamState : Resource {
  void* handle = nullptr;
  explicit StreamState(std::shared_ptr<DeviceContext> c) : Resource(std::move(c), "Stream") {
    ctx->use("Stream");
    handle = ctx->backend->createStream();
    attach();
  }
  ~StreamState() override { release(); }
  void freeHandle() noexcept override { ctx->backend->destroyStream(handle); }
};

class NativeStream : public Napi::ObjectWrap<NativeStream> {
 public:
  static Napi::FunctionReference& constructor(Napi::Env env) { return ctors(env).stream; }
  static Napi::Function define(Napi::Env env) {
    return DefineClass(env, "NativeStream",
                       {InstanceMethod<&NativeStream::synchronize>("synchronize"), InstanceMethod<&NativeStream::dispose>("dispose"),
                        InstanceAccessor<&NativeStream::disposed>("disposed")});
  }
  NativeStream(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativeStream>(info) {
    guarded(info.Env(), [&] {
      auto* dev = unwrapArg<NativeDevice>(info[0], "NativeDevice");
      state = std::make_shared<StreamState>(dev->live("Stream.create"));
      return 0;
    });
  }
  std::shared_ptr<StreamState> state;

 private:
  Napi::Value synchronize(const Napi::CallbackInfo& i) {
    return guarded(i.Env(), [&] {
      state->use();
      state->ctx->backend->synchronizeStream(state->handle);
      return i.Env().Undefined();
    });
  }
  Napi::Value dispose(const Napi::CallbackInfo& i) {
    state->release();
    return i.Env().Undefined();
  }
  Napi::Value disposed(const Napi::CallbackInfo& i) { return Napi::Boolean::New(i.Env(), state->released); }
};

// The stream argument of launch/record: null/undefined is the default stream.
void* streamArg(const Napi::Value& v, const std::shared_ptr<DeviceContext>& ctx) {
  if (v.IsNull() || v.IsUndefined()) return nullptr;
  auto* s = unwrapArg<NativeStream>(v, "NativeStream");
  s->state->use();
  if (s->state->ctx != ctx) throw UsageError("the stream belongs to another Device");
  return s->state->handle;
}

class NativeFunction : public Napi::ObjectWrap<NativeFunction> {
 public:
  static Napi::FunctionReference& constructor(Napi::Env env) { return ctors(env).function; }
  static Napi::Function define(Napi::Env env) {
    return DefineClass(env, "NativeFunction",
                       {InstanceMethod<&NativeFunction::info>("info"),
                        InstanceMethod<&NativeFunction::setMaxDynamicShared>("setMaxDynamicShared"),
                        InstanceMethod<&NativeFunction::launch>("launch")});
  }
  // (module, name)
  NativeFunction(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativeFunction>(info) {
    guarded(info.Env(), [&] {
      auto* m = unwrapArg<NativeModule>(info[0], "NativeModule");
      if (!info[1].IsString()) throw UsageError("kernel name must be a string");
      name = info[1].As<Napi::String>().Utf8Value();
      module = m->state;
      module->use();
      handle = module->ctx->backend->getFunction(module->handle, name);
      return 0;
    });
  }

 private:
  void use() {
    if (module->released) throw DisposedError("Kernel " + name + " used after its Module was disposed");
    module->use();
  }
  Napi::Value info(const Napi::CallbackInfo& i) {
    return guarded(i.Env(), [&] {
      use();
      FunctionInfo f = module->ctx->backend->functionInfo(handle, name);
      Napi::Object o = Napi::Object::New(i.Env());
      o.Set("registers", f.numRegs);
      o.Set("staticSharedBytes", f.staticSharedBytes);
      o.Set("localBytes", f.localBytes);
      o.Set("maxThreadsPerBlock", f.maxThreadsPerBlock);
      o.Set("maxDynamicSharedBytes", f.maxDynamicSharedBytes);
      return Napi::Value(o);
    });
  }
  Napi::Value setMaxDynamicShared(const Napi::CallbackInfo& i) {
    return guarded(i.Env(), [&] {
      use();
      module->ctx->backend->setMaxDynamicShared(handle, name, static_cast<int>(sizeArg(i[0], "bytes")));
      return i.Env().Undefined();
    });
  }
  // (grid Uint32Array[3], block Uint32Array[3], sharedBytes, stream|null, params Uint8Array, offsets Uint32Array):
  // parameter k is at params + offsets[k]; the driver copies the values during the call.
  Napi::Value launch(const Napi::CallbackInfo& i) {
    return guarded(i.Env(), [&] {
      use();
      auto dims = [&](const Napi::Value& v, const char* what) {
        if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array ||
            v.As<Napi::Uint32Array>().ElementLength() != 3)
          throw UsageError(std::string(what) + " must be a Uint32Array of 3");
        return v.As<Napi::Uint32Array>();
      };
      Napi::Uint32Array grid = dims(i[0], "grid"), block = dims(i[1], "block");
      unsigned g[3] = {grid[0], grid[1], grid[2]}, b[3] = {block[0], block[1], block[2]};
      unsigned shared = static_cast<unsigned>(sizeArg(i[2], "sharedBytes"));
      void* stream = streamArg(i[3], module->ctx);
      auto [params, paramBytes] = bytesOf(i[4], "params");
      if (!i[5].IsTypedArray() || i[5].As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array)
        throw UsageError("offsets must be a Uint32Array");
      Napi::Uint32Array offsets = i[5].As<Napi::Uint32Array>();
      std::vector<void*> pointers(offsets.ElementLength());
      for (size_t k = 0; k < pointers.size(); k++) {
        if (offsets[k] >= paramBytes && paramBytes > 0) throw UsageError("parameter offset out of range");
        pointers[k] = params + offsets[k];
      }
      module->ctx->backend->launch(handle, name, g, b, shared, stream, pointers.empty() ? nullptr : pointers.data());
      return i.Env().Undefined();
    });
  }

  std::shared_ptr<ModuleState> module;
  void* handle = nullptr;
  std::string name;
};

// ---- Event -----------------------------------------------------------------------------------
struct EventState : Resource {
  void* handle = nullptr;
  explicit EventState(std::shared_ptr<DeviceContext> c) : Resource(std::move(c), "Event") {
    ctx->use("Event");
    handle = ctx->backend->createEvent();
    attach();
  }
  ~EventState() override { release(); }
  void freeHandle() noexcept override { ctx->backend->destroyEvent(handle); }
};

class NativeEvent : public Napi::ObjectWrap<NativeEvent> {
 public:
  static Napi::FunctionReference& constructor(Napi::Env env) { return ctors(env).event; }
  static Napi::Function define(Napi::Env env) {
    return DefineClass(env, "NativeEvent",
                       {InstanceMethod<&NativeEvent::record>("record"), InstanceMethod<&NativeEvent::synchronize>("synchronize"),
                        InstanceMethod<&NativeEvent::elapsedMsSince>("elapsedMsSince"),
                        InstanceMethod<&NativeEvent::dispose>("dispose")});
  }
  NativeEvent(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativeEvent>(info) {
    guarded(info.Env(), [&] {
      auto* dev = unwrapArg<NativeDevice>(info[0], "NativeDevice");
      state = std::make_shared<EventState>(dev->live("Event.create"));
      return 0;
    });
  }
  std::shared_ptr<EventState> state;

 private:
  Napi::Value record(const Napi::CallbackInfo& i) {
    return guarded(i.Env(), [&] {
      state->use();
      state->ctx->backend->recordEvent(state->handle, streamArg(i[0], state->ctx));
      return i.Env().Undefined();
    });
  }
  Napi::Value synchronize(const Napi::CallbackInfo& i) {
    return guarded(i.Env(), [&] {
      state->use();
      state->ctx->backend->synchronizeEvent(state->handle);
      return i.Env().Undefined();
    });
  }
  // this.elapsedMsSince(start): milliseconds from `start` to this event.
  Napi::Value elapsedMsSince(const Napi::CallbackInfo& i) {
    return guarded(i.Env(), [&] {
      state->use();
      auto* start = unwrapArg<NativeEvent>(i[0], "NativeEvent");
      start->state->use();
      return Napi::Value(Napi::Number::New(i.Env(), state->ctx->backend->elapsedMs(start->state->handle, state->handle)));
    });
  }
  Napi::Value dispose(const Napi::CallbackInfo& i) {
    state->release();
    return i.Env().Undefined();
  }
};

// ---- Module-level functions ------------------------------------------------------------------
// probe(): { api, library, driverVersion, deviceCount }, or a "no-driver" error.
Napi::Value probe(const Napi::CallbackInfo& i) {
  return guarded(i.Env(), [&] {
    Backend& b = backend();
    Napi::Object o = Napi::Object::New(i.Env());
    o.Set("api", b.api());
    o.Set("library", b.library());
    o.Set("driverVersion", b.driverVersion());
    o.Set("deviceCount", b.deviceCount());
    return Napi::Value(o);
  });
}

// deviceInfo(index): the query without retaining a context (what `tilekit devices` prints).
Napi::Value deviceInfo(const Napi::CallbackInfo& i) {
  return guarded(i.Env(), [&] {
    Backend& b = backend();
    int index = static_cast<int>(sizeArg(i[0], "device index"));
    if (index >= b.deviceCount()) throw UsageError("no GPU device " + std::to_string(index));
    return Napi::Value(infoObject(i.Env(), b.query(index)));
  });
}

Napi::Object init(Napi::Env env, Napi::Object exports) {
  auto* c = new Constructors();
  env.SetInstanceData(c);
  auto add = [&](const char* name, Napi::Function f, Napi::FunctionReference& ref) {
    ref = Napi::Persistent(f);
    exports.Set(name, f);
  };
  add("NativeDevice", NativeDevice::define(env), c->device);
  add("NativeBuffer", NativeBuffer::define(env), c->buffer);
  add("NativeModule", NativeModule::define(env), c->module);
  add("NativeFunction", NativeFunction::define(env), c->function);
  add("NativeStream", NativeStream::define(env), c->stream);
  add("NativeEvent", NativeEvent::define(env), c->event);
  exports.Set("probe", Napi::Function::New(env, probe));
  exports.Set("deviceInfo", Napi::Function::New(env, deviceInfo));
  return exports;
}

}  // namespace
}  // namespace tilekit

static Napi::Object InitTilekit(Napi::Env env, Napi::Object exports) { return tilekit::init(env, exports); }
NODE_API_MODULE(tilekit_native, InitTilekit)
