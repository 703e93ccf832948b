# CPACK_PROJECT_CONFIG_FILE: a package is built from a release build only, never from a sanitizer or debug build
# (its binary would need the sanitizer runtimes and run several times slower).
if(CPACK_BRAID_SANITIZE OR NOT CPACK_BRAID_BUILD_TYPE STREQUAL "Release")
  message(FATAL_ERROR "braid: packages are built from a Release build without sanitizers (this build: "
                      "CMAKE_BUILD_TYPE=${CPACK_BRAID_BUILD_TYPE}, BRAID_SANITIZE=${CPACK_BRAID_SANITIZE}); "
                      "use `cmake --preset release` and tools/package-deb.sh")
endif()
