# Driver for the ctest fuzz tests (tests/fuzzrun/CMakeLists.txt). Run with cmake -P:
#   -DMODE=build|run -DSOURCE_DIR=<repo> -DBUILD_DIR=<fuzz build dir> -DCXX=clang++-19 [-DGENERATOR=Ninja]
#   [-DMAKE_PROGRAM=...] [-DSECONDS=60] [-DFUZZER=parser|input|pack|checkpoint] [-DBRAID=<braid binary>]
# build builds every fuzz target; run fuzzes FUZZER (default parser) over a scratch copy of its seed corpus
# (tests/fuzz/corpus for the parser, tests/fuzz/<target>_corpus for the others) and its past crashes
# (tests/fuzz/regressions for the parser, tests/fuzz/<target>_regressions for the others, when present).
# The checkpoint fuzzer's seeds are made at run time instead: BRAID builds the pack of
# tests/fuzz/checkpoint/rules.braid, and the fuzzer writes the states of tests/fuzz/checkpoint/events.ndjson.
cmake_minimum_required(VERSION 3.25)

function(fail)
  string(JOIN "" msg ${ARGN})
  message(FATAL_ERROR "${msg}")
endfunction()

foreach(v MODE SOURCE_DIR BUILD_DIR CXX)
  if(NOT DEFINED ${v} OR "${${v}}" STREQUAL "")
    fail("fuzz.cmake: -D${v}=... is required")
  endif()
endforeach()

if(NOT FUZZER)
  set(FUZZER parser)
endif()
set(fuzzer ${BUILD_DIR}/tests/fuzz/braid_fuzz_${FUZZER})
if(FUZZER STREQUAL "parser")
  set(corpus ${SOURCE_DIR}/tests/fuzz/corpus)
  set(regressions ${SOURCE_DIR}/tests/fuzz/regressions)
  set(options -max_len=8192 -dict=${SOURCE_DIR}/tests/fuzz/braid.dict)
elseif(FUZZER STREQUAL "input")
  set(corpus ${SOURCE_DIR}/tests/fuzz/input_corpus)
  set(regressions ${SOURCE_DIR}/tests/fuzz/input_regressions)
  set(options -max_len=16384 -dict=${SOURCE_DIR}/tests/fuzz/input.dict)
elseif(FUZZER STREQUAL "pack")
  set(corpus ${SOURCE_DIR}/tests/fuzz/pack_corpus)
  set(regressions ${SOURCE_DIR}/tests/fuzz/pack_regressions)
  set(options)  # the seeds' size (libFuzzer's default max_len)
elseif(FUZZER STREQUAL "checkpoint")
  set(corpus)  # made at run time (below)
  set(regressions ${SOURCE_DIR}/tests/fuzz/checkpoint_regressions)
  set(options)  # the seeds' size
else()
  fail("fuzz.cmake: FUZZER must be parser, input, pack or checkpoint, not '${FUZZER}'")
endif()

if(MODE STREQUAL "build")
  find_program(clangxx NAMES ${CXX} NO_CACHE)
  if(NOT clangxx)
    fail("The fuzz build needs ${CXX}, which is not installed. Install the Debian packages clang-19 and "
         "libclang-rt-19-dev (tools/setup.sh does).")
  endif()
  # libFuzzer ships in libclang-rt-19-dev; without it the link fails with an obscure message, so check first.
  execute_process(COMMAND ${clangxx} -print-file-name=libclang_rt.fuzzer-x86_64.a
                  OUTPUT_VARIABLE fuzzer_lib OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(NOT IS_ABSOLUTE "${fuzzer_lib}" OR NOT EXISTS "${fuzzer_lib}")
    fail("${clangxx} has no libFuzzer runtime (libclang_rt.fuzzer-x86_64.a). Install the Debian package "
         "libclang-rt-19-dev (tools/setup.sh does).")
  endif()

  set(gen)
  if(GENERATOR)
    list(APPEND gen -G ${GENERATOR})
    if(MAKE_PROGRAM)
      list(APPEND gen -DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM})
    endif()
  endif()
  execute_process(
    COMMAND ${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${BUILD_DIR} ${gen} -DCMAKE_CXX_COMPILER=${clangxx}
            -DBRAID_FUZZ=ON -DBRAID_FRONTEND_ONLY=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
    RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    fail("Configuring the fuzz build in ${BUILD_DIR} failed (exit ${rc})")
  endif()
  execute_process(COMMAND ${CMAKE_COMMAND} --build ${BUILD_DIR} --target braid_fuzz_parser braid_fuzz_input
                          braid_fuzz_pack braid_fuzz_checkpoint --parallel 2
                  RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    fail("Building the fuzz targets in ${BUILD_DIR} failed (exit ${rc})")
  endif()

elseif(MODE STREQUAL "run")
  if(NOT EXISTS ${fuzzer})
    fail("${fuzzer} does not exist: fuzz_build must run first")
  endif()
  if(NOT SECONDS)
    set(SECONDS 60)
  endif()
  # A fresh copy of the seed corpus: libFuzzer adds the inputs it finds to its first corpus directory, and the
  # repository must not change. The past crashes are read too, so they stay fixed.
  set(work ${BUILD_DIR}/fuzzrun-${FUZZER})
  file(REMOVE_RECURSE ${work})
  file(MAKE_DIRECTORY ${work}/corpus ${work}/artifacts)
  set(ENV{ASAN_OPTIONS} "detect_leaks=1:abort_on_error=0:symbolize=1")
  set(ENV{UBSAN_OPTIONS} "print_stacktrace=1:halt_on_error=1")
  if(FUZZER STREQUAL "checkpoint")
    if(NOT BRAID OR NOT EXISTS "${BRAID}")
      fail("fuzz.cmake: the checkpoint fuzzer needs -DBRAID=<braid binary> to build its pack")
    endif()
    execute_process(COMMAND ${BRAID} build ${SOURCE_DIR}/tests/fuzz/checkpoint/rules.braid -o ${work}/rules.pack
                    RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
      fail("braid build of tests/fuzz/checkpoint/rules.braid failed (exit ${rc})")
    endif()
    set(ENV{BRAID_FUZZ_PACK} ${work}/rules.pack)
    set(ENV{BRAID_FUZZ_EVENTS} ${SOURCE_DIR}/tests/fuzz/checkpoint/events.ndjson)
    set(ENV{BRAID_FUZZ_SEEDS} ${work}/corpus)
    execute_process(COMMAND ${fuzzer} RESULT_VARIABLE rc)
    unset(ENV{BRAID_FUZZ_SEEDS})
    if(NOT rc EQUAL 0)
      fail("The checkpoint fuzzer could not write its seeds (exit ${rc})")
    endif()
  else()
    file(GLOB seeds ${corpus}/*)
    file(COPY ${seeds} DESTINATION ${work}/corpus)
  endif()
  set(dirs ${work}/corpus)
  if(IS_DIRECTORY ${regressions})
    list(APPEND dirs ${regressions})
  endif()

  execute_process(
    COMMAND ${fuzzer} -max_total_time=${SECONDS} -rss_limit_mb=4096 -timeout=10 ${options}
            -artifact_prefix=${work}/artifacts/ -print_final_stats=1 ${dirs}
    RESULT_VARIABLE rc)
  file(GLOB artifacts ${work}/artifacts/*)
  if(NOT rc EQUAL 0 OR artifacts)
    string(REPLACE ";" "\n  " list "${artifacts}")
    fail("The ${FUZZER} fuzzer failed (exit ${rc}). Reproducers:\n  ${list}\n"
         "Reproduce with: ${fuzzer} <file>. Save each reproducer under ${regressions}/: every later "
         "fuzz run replays them.")
  endif()
  message(STATUS "The ${FUZZER} fuzzer ran ${SECONDS} s over ${dirs} without finding anything.")

else()
  fail("fuzz.cmake: MODE must be build or run, not '${MODE}'")
endif()
