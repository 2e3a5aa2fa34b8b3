# libFuzzer targets, built only with -DSSRP_FUZZ=ON (clang). Each runs a few
# seconds from its seed corpus as a ctest labelled "fuzz"; new inputs go to
# the build tree, never back into the source corpus.
if(SSRP_FUZZ)
  function(ssrp_fuzz name source corpus)
    add_executable(${name} ${source})
    target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR})
    target_compile_options(${name} PRIVATE -fsanitize=fuzzer)
    target_link_options(${name} PRIVATE -fsanitize=fuzzer)
    target_link_libraries(${name} PRIVATE ssrp_static ${ARGN})
    set(work ${CMAKE_CURRENT_BINARY_DIR}/${name}.corpus)
    add_test(NAME ${name}
             COMMAND ${CMAKE_COMMAND} -E env ASAN_OPTIONS=detect_leaks=1
                     sh -c "mkdir -p '${work}' && exec \"$0\" -max_total_time=5 -timeout=5 -rss_limit_mb=1024 '${work}' '${corpus}'"
                     $<TARGET_FILE:${name}>)
    set_tests_properties(${name} PROPERTIES LABELS fuzz TIMEOUT 120)
  endfunction()
  ssrp_fuzz(fuzz_tpm_blob ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_blob.c
            ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/blob)
  ssrp_fuzz(fuzz_tpm2_response ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_tpm2_response.c
            ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/tpm2_response)
  include(${CMAKE_CURRENT_SOURCE_DIR}/fuzz/rp.cmake OPTIONAL)
  include(${CMAKE_CURRENT_SOURCE_DIR}/fuzz/hal.cmake OPTIONAL)
  include(${CMAKE_CURRENT_SOURCE_DIR}/fuzz/volume.cmake OPTIONAL)
  include(${CMAKE_CURRENT_SOURCE_DIR}/fuzz/cloud_graph.cmake OPTIONAL)
  include(${CMAKE_CURRENT_SOURCE_DIR}/fuzz/cloud_state.cmake OPTIONAL)
  include(${CMAKE_CURRENT_SOURCE_DIR}/fuzz/assoc.cmake OPTIONAL)
  include(${CMAKE_CURRENT_SOURCE_DIR}/fuzz/recover.cmake OPTIONAL)
  include(${CMAKE_CURRENT_SOURCE_DIR}/fuzz/cert_store.cmake OPTIONAL)
endif()
