# The simulated Graph (sim/cloud/graph*.c): the $filter parser on its own,
# and the handler driven directly with minted tokens. Included from
# tests/CMakeLists.txt when the ssrp_cloud library exists.
ssrp_test(unit_cloud_filter SOURCES unit/test_cloud_filter.c LABELS unit LIBS ssrp_cloud)
# Its memcheck run takes its two RSA keys from the openssl command
# (tests/test_rsa_key.h); every check runs as in the plain run.
ssrp_test(unit_cloud_graph SOURCES unit/test_cloud_graph.c LABELS unit LIBS ssrp_cloud)
