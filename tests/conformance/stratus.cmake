# Stratus Red Team conformance: the shipped pack (rules/ + the embedded stdlib) over real attack recordings in
# ../shared/corpora/stratus/. Included by tests/conformance/CMakeLists.txt. The test skips with a message when the
# corpus is absent (a fresh clone has no ../shared).
add_executable(stratus_conformance_tests ${CMAKE_CURRENT_LIST_DIR}/stratus_test.cpp)
target_link_libraries(stratus_conformance_tests PRIVATE braid_runtime braid_driver braid_check braid_parser
                      braid_warnings GTest::gtest_main)
target_compile_definitions(stratus_conformance_tests PRIVATE
  BRAID_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
  BRAID_CORPORA_DIR="${PROJECT_SOURCE_DIR}/../shared/corpora")
gtest_discover_tests(stratus_conformance_tests TEST_PREFIX conformance. DISCOVERY_TIMEOUT 60)
