# The simulated cloud's tenant loader (sim/cloud/state_json.c). Included
# inside if(SSRP_FUZZ) in tests.cmake, when the ssrp_cloud target exists.
if(TARGET ssrp_cloud)
  ssrp_fuzz(fuzz_cloud_state ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_cloud_state.c
            ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/cloud_state ssrp_cloud)
endif()
