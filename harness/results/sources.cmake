# The sources of the result model and its I/O (allocbench_results), listed once for the
# harness and for the fuzz targets of the readers.
set(ALLOCBENCH_RESULTS_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/metrics.cpp
  ${CMAKE_CURRENT_LIST_DIR}/output_dir.cpp
  ${CMAKE_CURRENT_LIST_DIR}/output_file.cpp
  ${CMAKE_CURRENT_LIST_DIR}/result_reader.cpp
  ${CMAKE_CURRENT_LIST_DIR}/result_writer.cpp
  ${CMAKE_CURRENT_LIST_DIR}/results.cpp
  ${CMAKE_CURRENT_LIST_DIR}/statistics.cpp)
