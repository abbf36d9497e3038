# Native build of vfmed: the hardware-model addon (emulated PF/VFs, DMA, wire, and the
# vfio-user socket transport) and libvfpf.so (the PF driver core + userspace shim, loaded
# by the mediator through koffi). Sources are listed by directory so that adding a file to
# one of these folders needs no edit here.
{
  "target_defaults": {
    "cflags": ["-Wall", "-Wextra", "-Wno-unused-parameter", "-fno-strict-aliasing"],
    "cflags_c": ["-std=gnu11"],
    "cflags_cc": ["-std=gnu++17", "-Wall", "-Wextra", "-Wno-unused-parameter"],
    "include_dirs": ["native/include"]
  },
  "targets": [
    {
      "target_name": "vfmed_hw",
      "sources": [
        "<!@(find native/nic native/dma native/wire -maxdepth 1 -name '*.c' | sort)",
        "<!@(find native/addon native/transport -maxdepth 1 -name '*.cc' | sort)"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED", "NAPI_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "libraries": ["-lpthread"]
    },
    {
      "target_name": "vfpf",
      "type": "shared_library",
      "product_name": "vfpf",
      "sources": [
        "<!@(find pf-driver/core pf-driver/user -maxdepth 1 -name '*.c' | sort)"
      ],
      "include_dirs": ["pf-driver/core", "pf-driver/user"]
    },
    {
      "target_name": "vfmed-guest",
      "type": "executable",
      "sources": [
        "<!@(find native/guest -maxdepth 1 -name '*.c' | sort)"
      ],
      "include_dirs": ["native/include"]
    }
  ]
}
