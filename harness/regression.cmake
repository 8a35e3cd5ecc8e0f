# Regression tracking: `allocbench compare`, `allocbench export`, `allocbench micro` and
# the allocbench-micro Google Benchmark binary. Included by harness/CMakeLists.txt after
# the allocbench target, which it links the commands into.
find_package(benchmark REQUIRED)

add_library(allocbench_analysis STATIC
  ${CMAKE_CURRENT_LIST_DIR}/analysis/compare.cpp
  ${CMAKE_CURRENT_LIST_DIR}/analysis/export.cpp
  ${CMAKE_CURRENT_LIST_DIR}/analysis/mann_whitney.cpp
  ${CMAKE_CURRENT_LIST_DIR}/analysis/result_samples.cpp)
target_include_directories(allocbench_analysis PUBLIC ${CMAKE_CURRENT_LIST_DIR}/analysis)
target_link_libraries(allocbench_analysis PUBLIC allocbench_results fmt::fmt
                      nlohmann_json::nlohmann_json)

# The commands compare, export and micro.
add_library(allocbench_regression STATIC
  ${CMAKE_CURRENT_LIST_DIR}/cli/compare_command.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cli/export_command.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cli/micro_command.cpp)
target_include_directories(allocbench_regression PUBLIC ${CMAKE_CURRENT_LIST_DIR}
                           ${CMAKE_CURRENT_LIST_DIR}/cli)
target_link_libraries(allocbench_regression PUBLIC allocbench_analysis allocbench_core fmt::fmt
                      nlohmann_json::nlohmann_json CLI11::CLI11)
target_link_libraries(allocbench PRIVATE allocbench_regression)

# The microbenchmark binary links Google Benchmark and the proof code, never an allocator:
# `allocbench micro` preloads one allocator per run. It sits next to allocbench.
add_executable(allocbench-micro
  ${CMAKE_CURRENT_LIST_DIR}/micro/micro_benchmarks.cpp
  ${CMAKE_CURRENT_LIST_DIR}/run/allocator_catalogue.cpp
  ${CMAKE_CURRENT_LIST_DIR}/run/proof.cpp)
target_include_directories(allocbench-micro PRIVATE ${CMAKE_CURRENT_LIST_DIR}
                           ${CMAKE_CURRENT_LIST_DIR}/run)
target_link_libraries(allocbench-micro PRIVATE benchmark::benchmark fmt::fmt ${CMAKE_DL_LIBS})
get_target_property(ALLOCBENCH_RUNTIME_DIR allocbench RUNTIME_OUTPUT_DIRECTORY)
if(ALLOCBENCH_RUNTIME_DIR)
  set_target_properties(allocbench-micro PROPERTIES RUNTIME_OUTPUT_DIRECTORY
                        ${ALLOCBENCH_RUNTIME_DIR})
endif()

add_executable(allocbench_regression_test
  ${CMAKE_CURRENT_LIST_DIR}/test/mann_whitney_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/test/compare_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/test/export_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/test/micro_test.cpp)
target_link_libraries(allocbench_regression_test PRIVATE allocbench_regression GTest::gtest_main)
target_compile_definitions(allocbench_regression_test PRIVATE
  ALLOCBENCH_COMPARE_FIXTURES="${CMAKE_CURRENT_LIST_DIR}/test/compare_fixtures"
  ALLOCBENCH_MICRO_EXE="$<TARGET_FILE:allocbench-micro>"
  ALLOCBENCH_EXE_DIR="$<TARGET_FILE_DIR:allocbench>")
add_dependencies(allocbench_regression_test allocbench-micro allocbench)
gtest_discover_tests(allocbench_regression_test PROPERTIES LABELS compare)

# The executable end to end: exit statuses, and the exports against their formats' fields.
find_package(Python3 COMPONENTS Interpreter)
if(Python3_Interpreter_FOUND)
  add_test(NAME compare_cli
           COMMAND ${CMAKE_CURRENT_LIST_DIR}/test/compare_cli.sh $<TARGET_FILE:allocbench>
                   ${CMAKE_CURRENT_LIST_DIR}/test/compare_fixtures)
  set_tests_properties(compare_cli PROPERTIES LABELS compare)
endif()
