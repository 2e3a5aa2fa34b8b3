# The simulated Graph: the $filter parser, and whole requests (paths,
# query strings, JSON bodies, $batch) fed to cloud_graph_handle. Included
# inside if(SSRP_FUZZ) in tests.cmake.
if(TARGET ssrp_cloud)
  ssrp_fuzz(fuzz_graph_filter ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_graph_filter.c
            ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/graph_filter ssrp_cloud)
  ssrp_fuzz(fuzz_graph_request ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_graph_request.c
            ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/graph_request ssrp_cloud)
endif()
# The login host: token grants, device codes, OpenID metadata and the JWKS.
if(TARGET ssrp_cloud)
  ssrp_fuzz(fuzz_login_request ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_login_request.c
            ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/login_request ssrp_cloud)
endif()
