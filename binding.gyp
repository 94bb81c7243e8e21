{
  "targets": [
    {
      "target_name": "coupled_adam",
      "sources": [
        "native/addon/addon.cc",
        "native/addon/cpu_steps.cc",
        "native/cpu/runtime.cc",
        "native/cpu/coupled_step.cc",
        "native/cpu/adamw_step.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "include"
      ],
      "defines": [
        "NAPI_VERSION=8",
        "NAPI_DISABLE_CPP_EXCEPTIONS",
        "NODE_ADDON_API_DISABLE_DEPRECATED"
      ],
      "cflags_cc": ["-std=c++17", "-O3", "-fno-math-errno", "-fno-trapping-math", "-fopenmp"],
      "ldflags": ["-fopenmp"],
      "conditions": [
        ["OS=='mac'", {
          "cflags_cc!": ["-fopenmp"],
          "ldflags!": ["-fopenmp"],
          "xcode_settings": {
            "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
            "OTHER_CFLAGS": ["-O3"]
          }
        }],
        ["OS=='win'", {
          "msvs_settings": { "VCCLCompilerTool": { "OpenMP": "true", "AdditionalOptions": ["/std:c++17"] } }
        }]
      ]
    }
  ]
}
