# The Windows dependencies (scripts/windows-deps: libcurl with Schannel,
# cJSON, cmocka cross-built from Debian's source packages, cached outside
# the tree) and cmake/toolchain-mingw64.cmake, for real: a program built
# against them runs under Wine against the simulated cloud, TLS with the
# simulator's CA and mutual TLS to DRS with the device's PFX. A cold
# dependency build takes minutes; a missing mirror, compiler or Wine fails
# the test. Included from tests/CMakeLists.txt when ssrp_cloud exists.
if(TARGET ssrp_sim_cli)
  add_test(NAME mingw_windows_deps
           COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/mingw/run_curl_probe.sh
                   ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_BINARY_DIR}/mingw/windows_deps
                   $<TARGET_FILE:ssrp_sim_cli>)
  set_tests_properties(mingw_windows_deps PROPERTIES LABELS mingw TIMEOUT 1800)
endif()
