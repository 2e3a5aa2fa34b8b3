# The simulated cloud's tenant state and token endpoint (sim/cloud/state*.c,
# token.c, jwt.c). Included from tests/CMakeLists.txt when ssrp_cloud exists.
ssrp_test(unit_cloud_state SOURCES unit/test_cloud_state.c LABELS unit LIBS ssrp_cloud)
# Its memcheck run takes its three RSA keys from the openssl command
# (tests/test_rsa_key.h); every grant, signature and refusal runs as in the
# plain run.
ssrp_test(unit_cloud_token SOURCES unit/test_cloud_token.c LABELS unit LIBS ssrp_cloud)

# Memory per directory object with 100k users and 100k devices loaded; run by
# hand (it is not a test): build/tests/cloud_state_mem [users] [devices]
add_executable(cloud_state_mem unit/cloud_state_mem.c)
target_include_directories(cloud_state_mem PRIVATE ${PROJECT_SOURCE_DIR})
target_link_libraries(cloud_state_mem PRIVATE ssrp_cloud)
ssrp_test(unit_cloud_token_cache SOURCES unit/test_cloud_token_cache.c LABELS unit LIBS ssrp_cloud)
