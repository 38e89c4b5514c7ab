{
  # The native GPU addon (runtime/native/, docs/gpu-runtime.md). It dlopens the CUDA driver or the
  # HIP runtime at run time, so it needs neither to build: only a C++17 compiler and Node's headers.
  "targets": [
    {
      "target_name": "tilekit_native",
      "sources": [
        "runtime/native/addon.cc",
        "runtime/native/backend.cc",
        "runtime/native/cuda_driver.cc",
        "runtime/native/hip_driver.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "libraries": ["-ldl"]
    }
  ]
}
